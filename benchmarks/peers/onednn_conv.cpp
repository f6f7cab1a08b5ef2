// oneDNN's time for the convolution CnnGen's kernels are held to: 3x3, 64 -> 64 channels, 56x56, stride 1, pad 1
// (ResNet's most common layer), forward, backward data and backward weights, batch 1 and 8, 1 and 2 threads.
//
// oneDNN is given every advantage: memory formats left to it (format_tag::any, so it picks its blocked layouts and
// the reorders into them are not timed), and both the direct and the "auto" algorithm (which may pick Winograd);
// the plain NCHW/OIHW layout is measured too, for a kernel that must read and write PyTorch's layout.
// FLOPs are counted as the direct algorithm needs them, 2*N*K*C*R*S*P*Q, whatever the algorithm, so a faster
// algorithm shows as a higher GFLOP/s.
//
// Build (run_peers.sh does it): g++ -O2 -std=c++17 onednn_conv.cpp -o build/onednn_conv -ldnnl -fopenmp
// Usage: onednn_conv [--budget SECONDS] [--threads 1,2] [--batches 1,8]
// Output: a table of every measurement, then RESULT {json} lines with the best configuration per
// (pass, batch, threads) (fields: see benchmarks/README.md).

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;
using Clock = std::chrono::steady_clock;

constexpr int kChannels = 64, kSize = 56, kKernel = 3, kStride = 1, kPad = 1;

struct Options {
    double budget = 0.3;  // seconds per measurement
    std::vector<int> threads = {1, 2};
    std::vector<int> batches = {1, 8};
};

std::vector<int> parse_list(const char *text, const char *what) {
    std::vector<int> values;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        char *end = nullptr;
        long value = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || value < 1 || value > 1024)
            throw std::invalid_argument(std::string("bad ") + what + " list: " + text);
        values.push_back(static_cast<int>(value));
    }
    if (values.empty()) throw std::invalid_argument(std::string("empty ") + what + " list");
    return values;
}

Options parse(int argc, char **argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + arg);
        if (arg == "--budget") {
            options.budget = std::atof(argv[++i]);
            if (!(options.budget > 0)) throw std::invalid_argument("--budget must be a positive number of seconds");
        } else if (arg == "--threads") {
            options.threads = parse_list(argv[++i], "thread");
        } else if (arg == "--batches") {
            options.batches = parse_list(argv[++i], "batch");
        } else {
            throw std::invalid_argument("unknown option " + arg + " (use --budget, --threads, --batches)");
        }
    }
    return options;
}

// Memory in the layout the primitive asked for, filled with values in [-1, 1] (no denormals, no NaNs).
memory filled(const memory::desc &desc, const dnnl::engine &engine, std::mt19937 &random) {
    memory m(desc, engine);
    auto *data = static_cast<float *>(m.get_data_handle());
    std::uniform_real_distribution<float> uniform(-1.f, 1.f);
    for (size_t i = 0; i < desc.get_size() / sizeof(float); ++i) data[i] = uniform(random);
    return m;
}

// Best seconds per execution over 5 timed groups that fill most of the budget, after a warm-up group.
// The best group: on a shared machine it is the one least disturbed by other work.
double best_seconds(dnnl::primitive &primitive, dnnl::stream &stream, const std::unordered_map<int, memory> &args,
                    double budget) {
    auto run = [&] {
        primitive.execute(stream, args);
        stream.wait();
    };
    auto start = Clock::now();
    for (int i = 0; i < 3; ++i) run();
    double estimate = std::chrono::duration<double>(Clock::now() - start).count() / 3;
    const int repeats = 5;
    int group = std::max(1, static_cast<int>(budget / (repeats + 1) / estimate));
    for (int i = 0; i < group; ++i) run();
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
        start = Clock::now();
        for (int i = 0; i < group; ++i) run();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count() / group);
    }
    return best;
}

struct Measurement {
    std::string pass;
    int batch, threads;
    double seconds, gflops;
    std::string config;
};

}  // namespace

int main(int argc, char **argv) try {
    Options options = parse(argc, argv);
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::mt19937 random(1);
    std::vector<Measurement> all;
    const dnnl_version_t *version = dnnl_version();

    std::printf("oneDNN %d.%d.%d: 3x3 conv %d->%d, %dx%d, stride %d, pad %d (with bias)\n", version->major,
                version->minor, version->patch, kChannels, kChannels, kSize, kSize, kStride, kPad);
    std::printf("  %-16s %5s %7s %10s %9s  %s\n", "pass", "batch", "threads", "ms", "GFLOP/s", "configuration");

    for (int threads : options.threads) {
        // oneDNN (OpenMP build) sizes its work split when a primitive is created: set the threads first.
        omp_set_num_threads(threads);
        for (int batch : options.batches) {
            const double flops = 2.0 * batch * kChannels * kChannels * kKernel * kKernel * kSize * kSize;
            for (bool any_format : {true, false}) {
                memory::dims src_dims = {batch, kChannels, kSize, kSize};
                memory::dims weight_dims = {kChannels, kChannels, kKernel, kKernel};
                memory::dims bias_dims = {kChannels};
                memory::dims strides = {kStride, kStride}, padding = {kPad, kPad};
                memory::desc src_md(src_dims, dt::f32, any_format ? tag::any : tag::nchw);
                memory::desc weight_md(weight_dims, dt::f32, any_format ? tag::any : tag::oihw);
                memory::desc bias_md(bias_dims, dt::f32, tag::x);
                memory::desc dst_md(src_dims, dt::f32, any_format ? tag::any : tag::nchw);

                for (algorithm alg : {algorithm::convolution_direct, algorithm::convolution_auto}) {
                    const std::string base = std::string("fmt=") + (any_format ? "any" : "nchw") +
                                             " alg=" + (alg == algorithm::convolution_direct ? "direct" : "auto");
                    auto record = [&](const char *pass, double seconds, const char *impl) {
                        Measurement m{pass, batch, threads, seconds, flops / seconds / 1e9, base + " impl=" + impl};
                        std::printf("  %-16s %5d %7d %10.3f %9.1f  %s\n", pass, batch, threads, seconds * 1e3, m.gflops,
                                    m.config.c_str());
                        all.push_back(m);
                    };

                    try {
                        // Forward, inference: no workspace kept for backward.
                        {
                            dnnl::convolution_forward::desc desc(prop_kind::forward_inference, alg, src_md, weight_md,
                                                                 bias_md, dst_md, strides, padding, padding);
                            dnnl::convolution_forward::primitive_desc pd(desc, engine);
                            dnnl::convolution_forward primitive(pd);
                            std::unordered_map<int, memory> args = {
                                {DNNL_ARG_SRC, filled(pd.src_desc(), engine, random)},
                                {DNNL_ARG_WEIGHTS, filled(pd.weights_desc(), engine, random)},
                                {DNNL_ARG_BIAS, filled(pd.bias_desc(), engine, random)},
                                {DNNL_ARG_DST, memory(pd.dst_desc(), engine)}};
                            record("forward", best_seconds(primitive, stream, args, options.budget),
                                   pd.impl_info_str());
                        }

                        // The backward passes take a forward-training descriptor as a hint for matching layouts.
                        dnnl::convolution_forward::desc training_desc(prop_kind::forward_training, alg, src_md,
                                                                      weight_md, bias_md, dst_md, strides, padding,
                                                                      padding);
                        dnnl::convolution_forward::primitive_desc training_pd(training_desc, engine);
                        {
                            dnnl::convolution_backward_data::desc desc(alg, src_md, weight_md, dst_md, strides, padding,
                                                                       padding);
                            dnnl::convolution_backward_data::primitive_desc pd(desc, engine, training_pd);
                            dnnl::convolution_backward_data primitive(pd);
                            std::unordered_map<int, memory> args = {
                                {DNNL_ARG_DIFF_DST, filled(pd.diff_dst_desc(), engine, random)},
                                {DNNL_ARG_WEIGHTS, filled(pd.weights_desc(), engine, random)},
                                {DNNL_ARG_DIFF_SRC, memory(pd.diff_src_desc(), engine)}};
                            record("backward_data", best_seconds(primitive, stream, args, options.budget),
                                   pd.impl_info_str());
                        }
                        {
                            dnnl::convolution_backward_weights::desc desc(alg, src_md, weight_md, bias_md, dst_md,
                                                                          strides, padding, padding);
                            dnnl::convolution_backward_weights::primitive_desc pd(desc, engine, training_pd);
                            dnnl::convolution_backward_weights primitive(pd);
                            std::unordered_map<int, memory> args = {
                                {DNNL_ARG_SRC, filled(pd.src_desc(), engine, random)},
                                {DNNL_ARG_DIFF_DST, filled(pd.diff_dst_desc(), engine, random)},
                                {DNNL_ARG_DIFF_WEIGHTS, memory(pd.diff_weights_desc(), engine)},
                                {DNNL_ARG_DIFF_BIAS, memory(pd.diff_bias_desc(), engine)}};
                            record("backward_weights", best_seconds(primitive, stream, args, options.budget),
                                   pd.impl_info_str());
                        }
                    } catch (const dnnl::error &e) {
                        // A combination this build does not implement is reported and skipped, not fatal.
                        if (e.status != dnnl_unimplemented) throw;
                        std::printf("  skipped: %s (no implementation)\n", base.c_str());
                    }
                }
            }
        }
    }

    // The best configuration of each pass × batch × threads, and separately the best in plain NCHW.
    std::map<std::tuple<std::string, int, int, bool>, const Measurement *> best;
    for (const auto &m : all) {
        bool plain = m.config.rfind("fmt=nchw", 0) == 0;
        for (bool restricted : {false, true}) {
            if (restricted && !plain) continue;
            auto key = std::make_tuple(m.pass, m.batch, m.threads, restricted);
            auto found = best.find(key);
            if (found == best.end() || m.seconds < found->second->seconds) best[key] = &m;
        }
    }
    for (const auto &[key, m] : best) {
        const bool plain_only = std::get<3>(key);
        std::printf(
            "RESULT {\"source\": \"onednn\", \"metric\": \"conv3x3_64_56_%s%s_ms\", \"threads\": %d, "
            "\"batch\": %d, \"value\": %.4g, \"unit\": \"ms\", \"gflops\": %.4g, \"config\": \"%s\"}\n",
            m->pass.c_str(), plain_only ? "_nchw" : "", m->threads, m->batch, m->seconds * 1e3, m->gflops,
            m->config.c_str());
    }
    return 0;
} catch (const dnnl::error &e) {
    std::fprintf(stderr, "oneDNN error: %s (status %d)\n", e.what(), static_cast<int>(e.status));
    return 1;
} catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
}
