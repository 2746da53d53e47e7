/* Prints the oneDNN enum values and struct sizes the C# binding (src/MemGen/Native/OneDnnApi.cs) hard-codes,
 * straight from the installed headers (libdnnl-dev), so they are read rather than guessed.
 * Build and run: gcc -o /tmp/dnnl-constants dnnl-constants.c && /tmp/dnnl-constants */
#include <stdio.h>
#include <stddef.h>
#include <oneapi/dnnl/dnnl.h>
#define P(x) printf("%-40s %lld\n", #x, (long long)(x))
int main(void) {
    P(dnnl_success); P(dnnl_out_of_memory); P(dnnl_invalid_arguments); P(dnnl_unimplemented);
    P(dnnl_iterator_ends); P(dnnl_runtime_error); P(dnnl_not_required);
    P(dnnl_f32); P(dnnl_cpu);
    P(dnnl_format_tag_any); P(dnnl_nchw); P(dnnl_nChw16c); P(dnnl_oihw); P(dnnl_iohw);
    P(dnnl_forward_training); P(dnnl_forward_inference); P(dnnl_backward_data); P(dnnl_backward_weights);
    P(dnnl_convolution_direct); P(dnnl_convolution_winograd); P(dnnl_convolution_auto);
    P(dnnl_deconvolution_direct); P(dnnl_deconvolution_winograd);
    P(dnnl_query_impl_info_str); P(dnnl_query_src_md); P(dnnl_query_diff_src_md); P(dnnl_query_weights_md);
    P(dnnl_query_diff_weights_md); P(dnnl_query_dst_md); P(dnnl_query_diff_dst_md); P(dnnl_query_scratchpad_md);
    P(dnnl_scratchpad_mode_library); P(dnnl_scratchpad_mode_user);
    P(dnnl_stream_default_flags);
    P(DNNL_ARG_SRC); P(DNNL_ARG_DST); P(DNNL_ARG_WEIGHTS); P(DNNL_ARG_DIFF_SRC); P(DNNL_ARG_DIFF_DST);
    P(DNNL_ARG_DIFF_WEIGHTS); P(DNNL_ARG_SCRATCHPAD); P(DNNL_ARG_FROM); P(DNNL_ARG_TO); P(DNNL_MAX_NDIMS);
    P(sizeof(dnnl_memory_desc_t)); P(sizeof(dnnl_convolution_desc_t)); P(sizeof(dnnl_deconvolution_desc_t));
    P(sizeof(dnnl_exec_arg_t)); P(offsetof(dnnl_exec_arg_t, memory)); P(sizeof(dnnl_dims_t));
    P(sizeof(dnnl_version_t)); P(offsetof(dnnl_version_t, minor)); P(offsetof(dnnl_version_t, patch));
    P(offsetof(dnnl_version_t, hash)); P(offsetof(dnnl_version_t, cpu_runtime));
    P(sizeof(dnnl_cpu_isa_t)); P(dnnl_cpu_isa_avx512_core); P(dnnl_cpu_isa_avx2); P(dnnl_cpu_isa_all);
    P(sizeof(dnnl_status_t)); P(sizeof(dnnl_format_tag_t));
    P(DNNL_RUNTIME_OMP);
    const dnnl_version_t *v = dnnl_version();
    printf("version %d.%d.%d hash %s runtime %u\n", v->major, v->minor, v->patch, v->hash, v->cpu_runtime);
    return 0;
}
