using MemGen.Tensors;

namespace MemGen.Tests.Nn;

/// <summary>
/// An independent float64 evaluation of a one-block noise-conditioned UNet in evaluation mode, written from
/// docs/science.md §9.3 with naive loops and nothing from the library but the parameter names: EDM preconditioning,
/// Fourier features of ¼·ln σ and the embedding MLP, conv+bias+SiLU, conditioned batch norms (running statistics, FiLM),
/// average pooling, the transposed convolution with its bias, the skip concatenation and the linear output layer.
/// </summary>
internal static class TinyConditionedUnet
{
    /// <summary>The residual r(y; σ) = y − D(y; σ) for gray images y [N, 1, H, W].</summary>
    public static double[] Residual(IReadOnlyDictionary<string, Tensor> p, Tensor y, float[] sigmas, double sigmaData, int embedding)
    {
        int n = y.N, h = y.H, w = y.W, d = h * w;
        var result = new double[n * d];
        for (int item = 0; item < n; item++)
        {
            double s = sigmas[item], sd2 = sigmaData * sigmaData;
            double cIn = 1 / Math.Sqrt(s * s + sd2), cSkip = sd2 / (s * s + sd2), cOut = s * sigmaData / Math.Sqrt(s * s + sd2);
            double cNoise = 0.25 * Math.Log(Math.Max(s, 1e-6));
            var emb = Embedding(p, cNoise, embedding);
            var x0 = new double[1, h, w];
            for (int i = 0; i < h; i++) for (int j = 0; j < w; j++) x0[0, i, j] = cIn * y.Data[item * d + i * w + j];

            var h1 = Map(AddBias(Conv(x0, p["enc0.conv1.weight"]), p["enc0.conv1.bias"]), Silu);
            var skip = Norm(Conv(h1, p["enc0.conv2.weight"]), p, "enc0.bn2", emb);
            var m = Norm(Conv(Pool(skip), p["mid.conv1.weight"]), p, "mid.bn1", emb);
            m = Norm(Conv(m, p["mid.conv2.weight"]), p, "mid.bn2", emb);
            var up = AddBias(ConvTranspose(m, p["up0.weight"]), p["up0.bias"]);
            var dec = Norm(Conv(Concat(up, skip), p["dec0.conv1.weight"]), p, "dec0.bn1", emb);
            var f = AddBias(Conv(dec, p["dec0.conv2.weight"]), p["dec0.conv2.bias"]);
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    double yv = y.Data[item * d + i * w + j];
                    result[item * d + i * w + j] = yv - (cSkip * yv + cOut * f[0, i, j]);
                }
        }
        return result;
    }

    private static double Silu(double u) => u / (1 + Math.Exp(-u));

    /// <summary>silu(W2·silu(W1·e + b1) + b2), e = [cos(ω_k c), sin(ω_k c)], ω_k = 2π·f_k, f_k geometric from 1/8 to 16 (one frequency: their geometric mean).</summary>
    private static double[] Embedding(IReadOnlyDictionary<string, Tensor> p, double c, int e)
    {
        int k = e / 2;
        var features = new double[e];
        for (int j = 0; j < k; j++)
        {
            double t = k == 1 ? 0.5 : (double)j / (k - 1);
            double omega = 2 * Math.PI / 8 * Math.Pow(128, t);
            features[j] = Math.Cos(omega * c);
            features[k + j] = Math.Sin(omega * c);
        }
        var hidden = Dense(features, p["emb.fc1.weight"], p["emb.fc1.bias"]).Select(Silu).ToArray();
        return Dense(hidden, p["emb.fc2.weight"], p["emb.fc2.bias"]).Select(Silu).ToArray();
    }

    private static double[] Dense(double[] x, Tensor weight, Tensor bias)
    {
        int outs = weight.Shape[0], ins = weight.Shape[1];
        var y = new double[outs];
        for (int o = 0; o < outs; o++)
        {
            y[o] = bias.Data[o];
            for (int i = 0; i < ins; i++) y[o] += weight.Data[o * ins + i] * x[i];
        }
        return y;
    }

    /// <summary>silu((γ(x − running mean)/running sd + β)(1 + s) + t) with (s, t) = film(emb).</summary>
    private static double[,,] Norm(double[,,] x, IReadOnlyDictionary<string, Tensor> p, string name, double[] emb)
    {
        int c = x.GetLength(0);
        var film = Dense(emb, p[name + ".film.weight"], p[name + ".film.bias"]);
        var y = new double[c, x.GetLength(1), x.GetLength(2)];
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < x.GetLength(1); i++)
                for (int j = 0; j < x.GetLength(2); j++)
                {
                    double hv = p[name + ".gamma"].Data[ch] * (x[ch, i, j] - p[name + ".running_mean"].Data[ch]) / p[name + ".running_sd"].Data[ch] + p[name + ".beta"].Data[ch];
                    y[ch, i, j] = Silu(hv * (1 + film[ch]) + film[c + ch]);
                }
        return y;
    }

    /// <summary>3×3 convolution, zero padding 1, weight [out, in, 3, 3].</summary>
    private static double[,,] Conv(double[,,] x, Tensor weight)
    {
        int cin = x.GetLength(0), h = x.GetLength(1), w = x.GetLength(2), cout = weight.Shape[0];
        var y = new double[cout, h, w];
        for (int o = 0; o < cout; o++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                    for (int c = 0; c < cin; c++)
                        for (int a = 0; a < 3; a++)
                            for (int b = 0; b < 3; b++)
                            {
                                int ii = i + a - 1, jj = j + b - 1;
                                if (ii >= 0 && ii < h && jj >= 0 && jj < w) y[o, i, j] += weight.Data[((o * cin + c) * 3 + a) * 3 + b] * x[c, ii, jj];
                            }
        return y;
    }

    /// <summary>2×2 transposed convolution, stride 2, weight [in, out, 2, 2].</summary>
    private static double[,,] ConvTranspose(double[,,] x, Tensor weight)
    {
        int cin = x.GetLength(0), h = x.GetLength(1), w = x.GetLength(2), cout = weight.Shape[1];
        var y = new double[cout, 2 * h, 2 * w];
        for (int c = 0; c < cin; c++)
            for (int o = 0; o < cout; o++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                        for (int a = 0; a < 2; a++)
                            for (int b = 0; b < 2; b++) y[o, 2 * i + a, 2 * j + b] += x[c, i, j] * weight.Data[((c * cout + o) * 2 + a) * 2 + b];
        return y;
    }

    private static double[,,] Pool(double[,,] x)
    {
        int c = x.GetLength(0), h = x.GetLength(1) / 2, w = x.GetLength(2) / 2;
        var y = new double[c, h, w];
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) y[ch, i, j] = 0.25 * (x[ch, 2 * i, 2 * j] + x[ch, 2 * i + 1, 2 * j] + x[ch, 2 * i, 2 * j + 1] + x[ch, 2 * i + 1, 2 * j + 1]);
        return y;
    }

    private static double[,,] Concat(double[,,] a, double[,,] b)
    {
        int ca = a.GetLength(0), cb = b.GetLength(0), h = a.GetLength(1), w = a.GetLength(2);
        var y = new double[ca + cb, h, w];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                for (int c = 0; c < ca; c++) y[c, i, j] = a[c, i, j];
                for (int c = 0; c < cb; c++) y[ca + c, i, j] = b[c, i, j];
            }
        return y;
    }

    private static double[,,] AddBias(double[,,] x, Tensor bias)
    {
        for (int c = 0; c < x.GetLength(0); c++)
            for (int i = 0; i < x.GetLength(1); i++)
                for (int j = 0; j < x.GetLength(2); j++) x[c, i, j] += bias.Data[c];
        return x;
    }

    private static double[,,] Map(double[,,] x, Func<double, double> f)
    {
        for (int c = 0; c < x.GetLength(0); c++)
            for (int i = 0; i < x.GetLength(1); i++)
                for (int j = 0; j < x.GetLength(2); j++) x[c, i, j] = f(x[c, i, j]);
        return x;
    }
}
