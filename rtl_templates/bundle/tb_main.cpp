// Testbench of a generated Tandem core bundle (docs/rtl.md, "Bundle"). Self-contained: it
// needs only Verilator and a C++ compiler. For every test image it loads data/memory.hex into
// a memory model, writes the image, feeds data/program.hex to the core (running the host
// layout steps of data/host.txt between commands: im2col, scatter, transpose), and compares every
// layer's output tensor with data/expected.txt (the C integer reference) and every fixed-duration
// command's cycle count with data/cycles.txt (hw_model's timing). Exit status 0 only when all
// match.
#include "Vtandem_core.h"
#include "tb_driver.h"
#include "verilated.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace
{

struct Layer {
    std::string name;
    int64_t addr, c, h, w;
};
struct Host {
    std::string kind; // im2col, scatter, transpose (docs/formats.md, "Host steps")
    int64_t src, dst, c, h, w, kh, kw, stride, pad, c0;
    std::vector<int64_t> ranges; // im2col on an OS core: X row ranges lo, hi, ... (none: [0, M))
};
struct Net {
    int rows, cols, bits, acc_bits, dataflow, mem_bits, limbs, n_images;
    int64_t in_addr, in_c, in_h, in_w;
    std::vector<Layer> layers;
};

class Memory
{
  public:
    int limbs = 1;
    std::vector<uint32_t> d;
    int64_t words() const
    {
        return (int64_t)d.size() / limbs;
    }
    uint32_t *word(int64_t a)
    {
        return &d[(size_t)a * limbs];
    }
    void set(int64_t a, int lsb, int width, int64_t v)
    {
        uint32_t *w = word(a);
        for (int i = 0; i < width; i++) {
            int bit = lsb + i;
            uint32_t b = i < 64 ? (uint32_t)((uint64_t)v >> i) & 1u : (uint32_t)(v < 0);
            w[bit / 32] = (w[bit / 32] & ~(1u << (bit % 32))) | b << (bit % 32);
        }
    }
    int64_t get(int64_t a, int lsb, int width)
    {
        const uint32_t *w = word(a);
        uint64_t v = 0;
        for (int i = 0; i < width; i++) {
            int bit = lsb + i;
            v |= (uint64_t)((w[bit / 32] >> (bit % 32)) & 1u) << i;
        }
        if (width < 64 && (v >> (width - 1)) & 1u)
            v |= ~(uint64_t)0 << width;
        return (int64_t)v;
    }
};

bool fail(const std::string &msg)
{
    fprintf(stderr, "tb: %s\n", msg.c_str());
    return false;
}

bool parse_hex_words(const std::string &path, int limbs, std::vector<uint32_t> *out)
{
    std::ifstream f(path);
    if (!f)
        return fail("cannot open " + path);
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty())
            continue;
        if ((int)line.size() != 8 * limbs)
            return fail(path + ": a line of " + std::to_string(line.size()) + " hex digits, not " +
                        std::to_string(8 * limbs));
        // most significant digits first in the file, least significant limb first in memory
        for (int l = 0; l < limbs; l++)
            out->push_back((uint32_t)strtoul(line.substr((size_t)(limbs - 1 - l) * 8, 8).c_str(),
                                             nullptr, 16));
    }
    return true;
}

bool load(const std::string &dir, Net *net, std::vector<uint32_t> *prog, std::vector<int64_t> *cyc,
          std::vector<Host> *host, Memory *mem0, std::vector<int64_t> *images,
          std::vector<int64_t> *expected)
{
    std::ifstream f(dir + "/net.txt");
    if (!f)
        return fail("cannot open " + dir + "/net.txt");
    std::string key;
    size_t n_layers = 0;
    f >> key >> net->rows >> net->cols >> net->bits >> net->acc_bits >> net->dataflow >>
        net->mem_bits >> net->limbs >> net->n_images;
    f >> key >> net->in_addr >> net->in_c >> net->in_h >> net->in_w;
    f >> key >> n_layers;
    for (size_t i = 0; i < n_layers; i++) {
        Layer l;
        f >> l.name >> l.addr >> l.c >> l.h >> l.w;
        net->layers.push_back(l);
    }
    if (!f)
        return fail(dir + "/net.txt: malformed");
    if (!parse_hex_words(dir + "/program.hex", 4, prog))
        return false;
    mem0->limbs = net->limbs;
    if (!parse_hex_words(dir + "/memory.hex", net->limbs, &mem0->d))
        return false;
    std::ifstream fc(dir + "/cycles.txt"), fh(dir + "/host.txt"), fi(dir + "/images.txt"),
        fe(dir + "/expected.txt");
    if (!fc || !fh || !fi || !fe)
        return fail("cannot open cycles.txt, host.txt, images.txt or expected.txt in " + dir);
    int64_t v;
    while (fc >> v)
        cyc->push_back(v);
    Host h;
    int64_t n_ranges;
    while (fh >> h.kind >> h.src >> h.dst >> h.c >> h.h >> h.w >> h.kh >> h.kw >> h.stride >>
           h.pad >> h.c0 >> n_ranges) {
        if (h.kind != "im2col" && h.kind != "scatter" && h.kind != "transpose")
            return fail("host.txt: unknown host step '" + h.kind + "'");
        if (n_ranges < 0 || n_ranges > (int64_t)1 << 24)
            return fail("host.txt: step " + std::to_string(host->size() + 1) + ": " +
                        std::to_string(n_ranges) + " row ranges");
        h.ranges.assign((size_t)(2 * n_ranges), 0);
        for (auto &r : h.ranges)
            if (!(fh >> r))
                return fail("host.txt: step " + std::to_string(host->size() + 1) +
                            ": fewer row ranges than announced");
        const int64_t oh = h.stride > 0 ? (h.h + 2 * h.pad - h.kh) / h.stride + 1 : 0,
                      ow = h.stride > 0 ? (h.w + 2 * h.pad - h.kw) / h.stride + 1 : 0;
        for (size_t i = 0; i < h.ranges.size(); i += 2)
            if (h.ranges[i] < 0 || h.ranges[i + 1] <= h.ranges[i] || h.ranges[i + 1] > oh * ow)
                return fail("host.txt: step " + std::to_string(host->size() + 1) + ": row range [" +
                            std::to_string(h.ranges[i]) + ", " + std::to_string(h.ranges[i + 1]) +
                            ") is not within the GEMM's " + std::to_string(oh * ow) + " rows");
        host->push_back(h);
    }
    while (fi >> v)
        images->push_back(v);
    while (fe >> v)
        expected->push_back(v);
    if (cyc->size() != prog->size() / 4)
        return fail("cycles.txt and program.hex disagree on the number of commands");
    return true;
}

// Host layout steps (docs/formats.md, "Host steps"): scatter copies a tensor into channels
// [c0, c0 + c) of another; transpose turns c channels of h*w pixels into h*w channels of c.
void move(const Net &net, const Host &h, Memory *mem)
{
    const int64_t C = net.cols, b = net.bits, HW = h.h * h.w;
    const bool tr = h.kind == "transpose";
    for (int64_t ch = 0; ch < h.c; ch++)
        for (int64_t px = 0; px < HW; px++) {
            const int64_t v = mem->get(h.src + (ch / C) * HW + px, (int)((ch % C) * b), (int)b);
            const int64_t och = tr ? px : h.c0 + ch, opx = tr ? ch : px, ohw = tr ? h.c : HW;
            mem->set(h.dst + (och / C) * ohw + opx, (int)((och % C) * b), (int)b, v);
        }
}

// A host step: im2col of channels [c0, c0 + c) from the line layout to the core's X layout,
// or a move (scatter, transpose).
void host_step(const Net &net, const Host &h, Memory *mem)
{
    if (h.kind != "im2col") {
        move(net, h, mem);
        return;
    }
    const int64_t R = net.rows, C = net.cols, b = net.bits;
    const int64_t oh = (h.h + 2 * h.pad - h.kh) / h.stride + 1,
                  ow = (h.w + 2 * h.pad - h.kw) / h.stride + 1;
    const int64_t M = oh * ow, K = h.c * h.kh * h.kw, HW = h.h * h.w;
    const bool ws = net.dataflow == 0;
    // X[m][k] gathered from the line layout
    auto x_at = [&](int64_t m, int64_t k) -> int64_t {
        const int64_t ci = k / (h.kh * h.kw), ky = (k / h.kw) % h.kh, kx = k % h.kw;
        const int64_t iy = (m / ow) * h.stride + ky - h.pad, ix = (m % ow) * h.stride + kx - h.pad;
        const int64_t ch = h.c0 + ci;
        if (iy < 0 || iy >= h.h || ix < 0 || ix >= h.w)
            return 0;
        return mem->get(h.src + (ch / C) * HW + iy * h.w + ix, (int)((ch % C) * b), (int)b);
    };
    // The core's X layout (docs/formats.md, "X layout"). WS: line (k / R) M + m, lane k % R.
    // OS: per row range [lo, hi), tiles of R rows from lo, K lines each.
    if (ws) {
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++)
                mem->set(h.dst + (k / R) * M + m, (int)((k % R) * b), (int)b, x_at(m, k));
        return;
    }
    std::vector<int64_t> ranges = h.ranges;
    if (ranges.empty())
        ranges = {0, M};
    int64_t off = 0;
    for (size_t i = 0; i < ranges.size(); i += 2) {
        const int64_t lo = ranges[i], hi = ranges[i + 1];
        for (int64_t m = lo; m < hi; m++)
            for (int64_t k = 0; k < K; k++)
                mem->set(h.dst + off + ((m - lo) / R) * K + k, (int)(((m - lo) % R) * b), (int)b,
                         x_at(m, k));
        off += (hi - lo + R - 1) / R * K;
    }
}

} // namespace

int main(int argc, char **argv)
{
    Verilated::commandArgs(argc, argv);
    const std::string dir = argc > 1 && argv[argc - 1][0] != '+' ? argv[argc - 1] : "data";
    Net net;
    std::vector<uint32_t> prog;
    std::vector<int64_t> cycles, images, expected;
    std::vector<Host> host;
    Memory mem0;
    if (!load(dir, &net, &prog, &cycles, &host, &mem0, &images, &expected))
        return 1;
    const size_t n_cmds = prog.size() / 4;
    const int64_t in_size = net.in_c * net.in_h * net.in_w;
    int64_t out_size = 0;
    for (const Layer &l : net.layers)
        out_size += l.c * l.h * l.w;
    if ((int64_t)images.size() != net.n_images * in_size ||
        (int64_t)expected.size() != net.n_images * out_size) {
        fprintf(stderr, "tb: images.txt or expected.txt has the wrong number of values\n");
        return 1;
    }
    auto ctx = std::make_unique<VerilatedContext>();
    auto m = std::make_unique<Vtandem_core>(ctx.get(), "core");
    tbdrv::Driver<Vtandem_core> drv(m.get(), 99); // the driver the rtl tests use too
    int failures = 0;
    int64_t checked = 0, timed = 0, total_cycles = 0;
    for (int img = 0; img < net.n_images; img++) {
        Memory mem = mem0;
        const int64_t C = net.cols, b = net.bits, hw = net.in_h * net.in_w;
        for (int64_t c = 0; c < net.in_c; c++)
            for (int64_t i = 0; i < hw; i++)
                mem.set(net.in_addr + (c / C) * hw + i, (int)((c % C) * b), (int)b,
                        images[(size_t)(img * in_size + c * hw + i)]);
        drv.reset();
        const uint64_t start = drv.cycle();
        // the core runs the commands between host steps (opcode 10); a host step runs on the
        // memory image once the core is idle, in zero core cycles
        for (size_t seg = 0; seg <= n_cmds;) {
            size_t end = seg;
            while (end < n_cmds && prog[end * 4] % 16 != 10)
                end++;
            std::vector<uint64_t> accept;
            std::string why;
            if (!drv.run(&prog[seg * 4], end - seg, mem.d.data(), mem.words(), net.limbs, &accept,
                         &why)) {
                fprintf(stderr, "tb: image %d: %s\n", img, why.c_str());
                return 1;
            }
            for (size_t i = seg; i < end; i++) {
                const int64_t stop =
                    i + 1 < end ? (int64_t)accept[i - seg + 1] : (int64_t)drv.cycle();
                const int64_t took = stop - (int64_t)accept[i - seg];
                if (cycles[i] < 0)
                    continue;
                timed++;
                if (took != cycles[i] && failures++ < 10)
                    fprintf(stderr,
                            "image %d: command %zu took %" PRId64 " cycles, expected %" PRId64 "\n",
                            img, i, took, cycles[i]);
            }
            if (end == n_cmds)
                break;
            const uint32_t *w = &prog[end * 4];
            size_t h = (w[2] >> 8) | (w[3] & 0xFFu) << 24;
            if (h >= host.size()) {
                fprintf(stderr, "tb: command %zu names host step %zu of %zu\n", end, h,
                        host.size());
                return 1;
            }
            host_step(net, host[h], &mem);
            seg = end + 1;
        }
        const uint64_t cyc = drv.cycle();
        if (m->err_o) {
            fprintf(stderr, "image %d: the core raised its error flag\n", img);
            failures++;
        }
        total_cycles += (int64_t)(cyc - start);
        int64_t off = img * out_size;
        for (const Layer &l : net.layers) {
            const int64_t lhw = l.h * l.w;
            int bad = 0;
            for (int64_t c = 0; c < l.c; c++)
                for (int64_t i = 0; i < lhw; i++) {
                    int64_t got = mem.get(l.addr + (c / C) * lhw + i, (int)((c % C) * b), (int)b);
                    int64_t want = expected[(size_t)(off + c * lhw + i)];
                    checked++;
                    if (got != want && bad++ < 3)
                        fprintf(stderr,
                                "image %d layer %s: channel %" PRId64 " pixel %" PRId64
                                " = %" PRId64 ", reference %" PRId64 "\n",
                                img, l.name.c_str(), c, i, got, want);
                }
            failures += bad;
            off += l.c * lhw;
        }
    }
    m->final();
    printf("tandem_core %dx%d %d-bit %s: %d images, %" PRId64 " outputs and %" PRId64
           " command timings checked, %" PRId64 " cycles, %d mismatches\n",
           net.rows, net.cols, net.bits, net.dataflow ? "OS" : "WS", net.n_images, checked, timed,
           total_cycles, failures);
    printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
