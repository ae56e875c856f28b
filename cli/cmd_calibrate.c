/* tandem calibrate: gate-level calibration of hw_model (docs/calibration.md, issue #8).
 * Synthesizes the RTL templates with Yosys against a liberty library, times them with OpenSTA,
 * measures power with OpenSTA at per-pin activities counted from a Verilator simulation of the
 * gate-level netlist on random GEMM tiles, fits per-component models with GSL and writes the
 * calibration file that hw_calib reads. The tools run as subprocesses; each component has its
 * own work folder with the scripts and logs, and a failure names the tool and its log. */
#include "cmd_common.h"
#include "commands.h"
#include "hw_calib.h"
#include "hw_eval.h"
#include "td_log.h"
#include "td_version.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: tandem calibrate [--lib osu018] [-o FILE] [--quick] [--work DIR] [--json]\n"
    "       tandem calibrate --validate RxC[,RxC...] [--calib FILE] [--work DIR] [--json]\n"
    "       tandem calibrate --report [--calib FILE] [--node NM] [--json]\n"
    "\n"
    "Synthesizes the RTL templates (rtl_templates/sv) with Yosys against the library's liberty\n"
    "file, finds each component's critical path with OpenSTA, measures power with OpenSTA at\n"
    "per-pin activities counted from a Verilator run of the gate-level netlist on random GEMM\n"
    "tiles, fits area/energy models with GSL least squares and writes the calibration file\n"
    "(default hw_model/calibration/<lib>.json). Needs yosys, sta (OpenSTA) and verilator.\n"
    "\n"
    "  --lib NAME            cell library: osu018 (Debian qflow-tech-osu018)\n"
    "  --liberty FILE        liberty file to use instead of the library's installed one\n"
    "  -o, --out FILE        calibration file to write\n"
    "  --quick               one bit width (8), one array size (2x2, WS): the CI check\n"
    "  --work DIR            folder for scripts, netlists and logs (default: a new temporary one)\n"
    "  --only LIST           run only the components whose names contain one of these\n"
    "                        comma-separated strings (e.g. os_b32) into --work, write no file:\n"
    "                        splits a long calibration; a later run with the same --work reuses\n"
    "                        every finished synthesis and simulation\n"
    "  --skip LIST           leave out the components whose names contain one of these strings\n"
    "                        (their fits are then absent from the file)\n"
    "  --src DIR             repository root holding rtl_templates/ and hw_model/ (default\n"
    "                        $TANDEM_SOURCE_DIR, else .)\n"
    "  --validate LIST       synthesize these 8-bit WS arrays and compare their area with the\n"
    "                        model fitted in --calib (default hw_model/calibration/osu018.json)\n"
    "  --calib FILE          calibration file for --validate and --report\n"
    "  --report              print the hw_tech table the calibration gives at --node (default\n"
    "                        45 nm) beside the published one, each entry marked synthesis+scaled\n"
    "                        or published, and the PE fmax per bit width (no tools needed)\n"
    "  --node NM             node of --report: 180, 130, 90, 65, 45 or 32\n"
    "      --json            print one JSON object with the results on stdout\n"
    "  -v, --verbose / -q, --quiet\n";

enum {
    OPT_LIB = CMD_OPT_COMMON_COUNT,
    OPT_LIBERTY,
    OPT_QUICK,
    OPT_WORK,
    OPT_SRC,
    OPT_VALIDATE,
    OPT_CALIB,
    OPT_REPORT,
    OPT_NODE,
    OPT_ONLY,
    OPT_SKIP
};

/* ------------------------------------------------------------------ components */

typedef enum job_kind { J_PE, J_ARRAY, J_MULT, J_ADD, J_VECTOR, J_CTRL, J_KIND_COUNT } job_kind;
static const char *const kind_names[J_KIND_COUNT] = {"pe",  "array",  "mult",
                                                     "add", "vector", "controller"};

typedef struct job {
    job_kind kind;
    int df, bits, acc, rows, cols, lanes;
    bool timing, power;
    char name[64], dir[1100];
    /* results */
    double area_um2, ff_area_um2;
    long cells, ffs;
    double delay_ns, fmax_mhz;
    double clock_mhz, cycles, macs;
    double p_int_mw, p_sw_mw, p_leak_mw, p_total_mw, p_seq_mw, p_comb_mw;
    double mac_pj, mac_seq_pj, mac_comb_pj;
    size_t act_pins;
    double seconds;
} job;

typedef struct ctx {
    char src[1024], work[1024], liberty[1024], lib[64];
    char yosys_v[128], sta_v[128], verilator_v[128];
    char cells_v[1100]; /* simulation models of the liberty cells (Yosys read_liberty) */
    /* liberty cell areas */
    char cell_name[128][32];
    double cell_area[128];
    size_t n_cells;
    /* liberty pin names (the simulation models have internal wires besides them) */
    char pin_name[64][16];
    size_t n_pin_names;
} ctx;

static const int power_tiles = 4, power_k = 32, power_seed = 1;
static const double sta_period_ns = 10.0;

static int acc_for_bits(int bits)
{
    return bits <= 8 ? 32 : 2 * bits; /* hw_config default 32; legal range [2b, 2b+32] */
}

static void job_name(job *j)
{
    const char *df = j->df == HW_DATAFLOW_OS ? "os" : "ws";
    switch (j->kind) {
    case J_PE:
        snprintf(j->name, sizeof j->name, "pe_%s_b%d", df, j->bits);
        break;
    case J_ARRAY:
        snprintf(j->name, sizeof j->name, "array_%s_b%d_%dx%d", df, j->bits, j->rows, j->cols);
        break;
    case J_MULT:
        snprintf(j->name, sizeof j->name, "mult_b%d", j->bits);
        break;
    case J_ADD:
        snprintf(j->name, sizeof j->name, "add_b%d", j->bits);
        break;
    case J_VECTOR:
        snprintf(j->name, sizeof j->name, "vector_l%d_b%d", j->lanes, j->bits);
        break;
    default:
        snprintf(j->name, sizeof j->name, "controller_%s_%dx%d", df, j->rows, j->cols);
        break;
    }
}

/* ------------------------------------------------------------------ tools */

static bool tool_on_path(const char *tool)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char f[4200];
        snprintf(f, sizeof f, "%s/%s", *d ? d : ".", tool);
        if (access(f, X_OK) == 0)
            return true;
    }
    return false;
}

static td_status tool_check(const char *tool, const char *package)
{
    if (!tool_on_path(tool))
        return td_fail(TD_ERR_UNSUPPORTED,
                       "%s: not found on PATH (Debian package %s); tandem calibrate needs it", tool,
                       package);
    return TD_OK;
}

/* First line of `cmd` (a version query). */
static void tool_version(const char *cmd, char *out, size_t size)
{
    snprintf(out, size, "unknown");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[256];
    if (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(out, size, "%.120s", line);
    }
    pclose(p);
}

/* Runs `cmd` in dir with stdout and stderr to log; names tool and log on failure. */
static td_status tool_run(const char *tool, const char *dir, const char *args, const char *log,
                          const char *what)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s %s > '%s' 2>&1", dir, tool, args, log);
    td_log_debug("calibrate: %s", cmd);
    int rc = system(cmd);
    if (rc == -1)
        return td_fail(TD_ERR_IO, "%s: cannot start (%s)", tool, strerror(errno));
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        return td_fail(TD_ERR_IO, "%s failed (exit %d) on %s: see %s/%s", tool,
                       WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, what, dir, log);
    return TD_OK;
}

static td_status write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return td_fail(TD_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    fputs(text, fp);
    if (fclose(fp) != 0)
        return td_fail(TD_ERR_IO, "%s: write failed", path);
    return TD_OK;
}

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(fp);
    return buf;
}

static td_status mkdir_p(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return td_fail(TD_ERR_IO, "%s: cannot create folder: %s", path, strerror(errno));
    return TD_OK;
}

/* ------------------------------------------------------------------ liberty */

static td_status liberty_areas(ctx *c)
{
    char *text = read_text(c->liberty);
    if (!text)
        return td_fail(TD_ERR_IO, "%s: cannot read the liberty file", c->liberty);
    c->n_cells = 0;
    for (char *p = strstr(text, "cell"); p && c->n_cells < 128; p = strstr(p + 4, "cell")) {
        if (p > text && (p[-1] != ' ' && p[-1] != '\n' && p[-1] != '\t'))
            continue;
        char *q = p + 4;
        while (*q == ' ')
            q++;
        if (*q != '(')
            continue;
        char name[32];
        if (sscanf(q, "( %31[^) ] )", name) != 1)
            continue;
        char *a = strstr(q, "area");
        double area;
        if (!a || sscanf(a, "area : %lf", &area) != 1)
            continue;
        snprintf(c->cell_name[c->n_cells], sizeof c->cell_name[0], "%s", name);
        c->cell_area[c->n_cells++] = area;
    }
    c->n_pin_names = 0;
    for (char *p = strstr(text, "pin"); p && c->n_pin_names < 64; p = strstr(p + 3, "pin")) {
        char name[16];
        if (p > text && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n')
            continue;
        if (sscanf(p, "pin ( %15[A-Za-z0-9_] )", name) != 1 &&
            sscanf(p, "pin( %15[A-Za-z0-9_] )", name) != 1)
            continue;
        bool seen = false;
        for (size_t i = 0; i < c->n_pin_names; i++)
            seen |= strcmp(c->pin_name[i], name) == 0;
        if (!seen)
            snprintf(c->pin_name[c->n_pin_names++], sizeof c->pin_name[0], "%s", name);
    }
    free(text);
    if (c->n_cells == 0)
        return td_fail(TD_ERR_PARSE, "%s: no cell with an area found", c->liberty);
    return TD_OK;
}

static double cell_area(const ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_cells; i++)
        if (strcmp(c->cell_name[i], name) == 0)
            return c->cell_area[i];
    return NAN;
}

/* ------------------------------------------------------------------ synthesis */

static const char *job_top(const job *j)
{
    static const char *const tops[J_KIND_COUNT] = {"rtl_mac_pe",      "rtl_systolic_array",
                                                   "calib_mult",      "calib_add",
                                                   "rtl_vector_unit", "rtl_controller"};
    return tops[j->kind];
}

static void job_sources(const ctx *c, const job *j, char *out, size_t size)
{
    const char *rtl = "rtl_templates/sv", *cal = "hw_model/calibration";
    switch (j->kind) {
    case J_PE:
        snprintf(out, size, "%s/%s/rtl_mac_pe.sv", c->src, rtl);
        break;
    case J_ARRAY:
        snprintf(out, size, "%s/%s/rtl_mac_pe.sv %s/%s/rtl_systolic_array.sv", c->src, rtl, c->src,
                 rtl);
        break;
    case J_MULT:
    case J_ADD:
        snprintf(out, size, "%s/%s/calib_ops.sv", c->src, cal);
        break;
    case J_VECTOR:
        snprintf(out, size, "%s/%s/rtl_vector_unit.sv", c->src, rtl);
        break;
    default:
        snprintf(out, size, "%s/%s/rtl_controller.sv", c->src, rtl);
        break;
    }
}

static void job_params(const job *j, char *out, size_t size)
{
    switch (j->kind) {
    case J_PE:
        snprintf(out, size, "-chparam Bits %d -chparam AccBits %d -chparam Dataflow %d", j->bits,
                 j->acc, j->df);
        break;
    case J_ARRAY:
        snprintf(out, size,
                 "-chparam Rows %d -chparam Cols %d -chparam Bits %d -chparam AccBits %d "
                 "-chparam Dataflow %d",
                 j->rows, j->cols, j->bits, j->acc, j->df);
        break;
    case J_MULT:
    case J_ADD:
        snprintf(out, size, "-chparam Bits %d", j->bits);
        break;
    case J_VECTOR:
        snprintf(out, size, "-chparam Lanes %d -chparam Bits %d -chparam AccBits %d", j->lanes,
                 j->bits, j->acc);
        break;
    default: {
        int colbits = 1;
        while ((1 << colbits) < j->cols)
            colbits++;
        snprintf(out, size,
                 "-chparam Rows %d -chparam Cols %d -chparam Dataflow %d -chparam ColBits %d",
                 j->rows, j->cols, j->df, j->cols > 1 ? colbits : 1);
        break;
    }
    }
}

static double mtime_of(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -1;
    return (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec;
}

/* A work folder from an earlier run (same --work) holds a finished synthesis of the same
 * script, newer than every source it read: reuse it (a long array is minutes of Yosys). */
static bool synth_cached(const char *dir, const char *ys, const char *srcs)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/synth.ys", dir);
    char *old = read_text(path);
    bool same = old && strcmp(old, ys) == 0;
    free(old);
    if (!same)
        return false;
    snprintf(path, sizeof path, "%s/synth.log", dir);
    char *log = read_text(path);
    bool done = log && strstr(log, "Chip area for module") && strstr(log, "End of script");
    free(log);
    double t_log = mtime_of(path);
    snprintf(path, sizeof path, "%s/netlist.v", dir);
    if (!done || mtime_of(path) < 0)
        return false;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", srcs);
    for (char *save = NULL, *f = strtok_r(buf, " ", &save); f; f = strtok_r(NULL, " ", &save))
        if (mtime_of(f) < 0 || mtime_of(f) > t_log)
            return false;
    return true;
}

static td_status job_synth(const ctx *c, job *j)
{
    char srcs[4096], params[512], ys[8192], path[1200];
    job_sources(c, j, srcs, sizeof srcs);
    job_params(j, params, sizeof params);
    /* The vector unit's lanes hold three wide multipliers (the requantization's
     * (AccBits + 1) x 33 bits and the residual add's two (Bits + 35) x 33) and two 7-bit
     * barrel shifters of ~70 bits: ABC's default script (strash; ifraig; scorr; dc2; dretime;
     * strash; &get -n; &dch -f; &nf {D}; &put) on ~14,000 gates of one lane ran for more than
     * 15 minutes; `abc -fast` (a shorter script: strash; dretime; map) maps one lane in about
     * 8 s of CPU (docs/calibration.md). Its mapping is less area-optimized than the other
     * components', which the file says ("abc": "fast"). */
    const bool fast = j->kind == J_VECTOR;
    snprintf(ys, sizeof ys,
             "read_verilog -sv %s\n"
             "hierarchy -check -top %s %s\n"
             "synth -flatten -top %s\n"
             "dfflibmap -liberty %s\n"
             "abc%s -liberty %s\n"
             "opt_clean -purge\n"
             "stat -liberty %s\n"
             "write_verilog -noattr -noexpr -simple-lhs netlist.v\n",
             srcs, job_top(j), params, job_top(j), c->liberty, fast ? " -fast" : "", c->liberty,
             c->liberty);
    snprintf(path, sizeof path, "%s/synth.ys", j->dir);
    td_status st = TD_OK;
    if (synth_cached(j->dir, ys, srcs)) {
        td_log_info("calibrate: %s: reusing the synthesis in %s (same script, newer than its "
                    "sources)",
                    j->name, j->dir);
    } else {
        st = write_text(path, ys);
        if (st == TD_OK)
            st = tool_run("yosys", j->dir, "-q -l synth.log synth.ys", "yosys.out", j->name);
    }
    if (st != TD_OK)
        return st;
    snprintf(path, sizeof path, "%s/synth.log", j->dir);
    char *log = read_text(path);
    if (!log)
        return td_fail(TD_ERR_IO, "%s: cannot read the Yosys log", path);
    /* the last "Number of cells" block: per-cell counts, then the chip area */
    char *blk = NULL;
    for (char *p = strstr(log, "Number of cells:"); p; p = strstr(p + 1, "Number of cells:"))
        blk = p;
    char *area = NULL;
    for (char *p = strstr(log, "Chip area for module"); p; p = strstr(p + 1, "Chip area for"))
        area = p;
    if (!blk || !area || !strchr(area, ':')) {
        free(log);
        return td_fail(TD_ERR_PARSE, "yosys: no cell statistics for %s in %s", j->name, path);
    }
    j->area_um2 = strtod(strchr(area, ':') + 1, NULL);
    j->cells = strtol(blk + strlen("Number of cells:"), NULL, 10);
    j->ffs = 0;
    j->ff_area_um2 = 0;
    char *line = strchr(blk, '\n');
    while (line && line < area) {
        char name[64];
        long n;
        if (sscanf(line + 1, " %63s %ld", name, &n) == 2 &&
            (strncmp(name, "DFF", 3) == 0 || strncmp(name, "LATCH", 5) == 0)) {
            j->ffs += n;
            double a = cell_area(c, name);
            if (!isnan(a))
                j->ff_area_um2 += a * (double)n;
        }
        line = strchr(line + 1, '\n');
    }
    free(log);
    if (!(j->area_um2 > 0))
        return td_fail(TD_ERR_PARSE, "yosys: zero chip area for %s (see %s/synth.log)", j->name,
                       j->dir);
    return TD_OK;
}

/* ------------------------------------------------------------------ simulation and VCD */

typedef struct vcd_sig {
    char code[32];
    int width;
    char *val;       /* current value, width chars ('0'/'1'/'x') */
    double *toggles; /* per bit */
    double *high;    /* time high, per bit */
    int64_t t_last;
} vcd_sig;

typedef struct vcd_pin {
    char inst[48], pin[16];
    int sig; /* index into sigs */
    bool port;
} vcd_pin;

typedef struct vcd {
    vcd_sig *sigs;
    size_t n_sigs, cap_sigs;
    size_t *hash; /* open addressing over codes: index + 1, 0 empty */
    size_t hash_cap;
    vcd_pin *pins;
    size_t n_pins, cap_pins;
    int clk;
    int64_t t0, t1;
} vcd;

static uint64_t code_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int vcd_find(const vcd *v, const char *code)
{
    if (v->hash_cap == 0)
        return -1;
    size_t i = code_hash(code) & (v->hash_cap - 1);
    while (v->hash[i]) {
        if (strcmp(v->sigs[v->hash[i] - 1].code, code) == 0)
            return (int)(v->hash[i] - 1);
        i = (i + 1) & (v->hash_cap - 1);
    }
    return -1;
}

static int vcd_add_sig(vcd *v, const char *code, int width)
{
    int f = vcd_find(v, code);
    if (f >= 0)
        return f;
    if (v->n_sigs == v->cap_sigs) {
        v->cap_sigs = v->cap_sigs ? 2 * v->cap_sigs : 1024;
        v->sigs = realloc(v->sigs, v->cap_sigs * sizeof *v->sigs);
    }
    if (2 * (v->n_sigs + 1) > v->hash_cap) {
        size_t cap = v->hash_cap ? 2 * v->hash_cap : 4096;
        free(v->hash);
        v->hash = calloc(cap, sizeof *v->hash);
        v->hash_cap = cap;
        for (size_t k = 0; k < v->n_sigs; k++) {
            size_t i = code_hash(v->sigs[k].code) & (cap - 1);
            while (v->hash[i])
                i = (i + 1) & (cap - 1);
            v->hash[i] = k + 1;
        }
    }
    vcd_sig *s = &v->sigs[v->n_sigs];
    memset(s, 0, sizeof *s);
    snprintf(s->code, sizeof s->code, "%s", code);
    s->width = width;
    s->val = malloc((size_t)width + 1);
    memset(s->val, 'x', (size_t)width);
    s->val[width] = '\0';
    s->toggles = calloc((size_t)width, sizeof(double));
    s->high = calloc((size_t)width, sizeof(double));
    size_t i = code_hash(code) & (v->hash_cap - 1);
    while (v->hash[i])
        i = (i + 1) & (v->hash_cap - 1);
    v->hash[i] = v->n_sigs + 1;
    return (int)v->n_sigs++;
}

static void vcd_free(vcd *v)
{
    for (size_t i = 0; i < v->n_sigs; i++) {
        free(v->sigs[i].val);
        free(v->sigs[i].toggles);
        free(v->sigs[i].high);
    }
    free(v->sigs);
    free(v->hash);
    free(v->pins);
}

static void vcd_set(vcd *v, int idx, const char *bits, int64_t t)
{
    vcd_sig *s = &v->sigs[idx];
    int n = (int)strlen(bits);
    for (int b = 0; b < s->width; b++) {
        /* bit b counts from the right (LSB); missing left bits extend with 0 */
        int src = n - 1 - b;
        char nb = src >= 0 ? bits[src] : (bits[0] == '1' ? '0' : bits[0]);
        int k = s->width - 1 - b;
        char ob = s->val[k];
        if (ob == '1')
            s->high[b] += (double)(t - s->t_last);
        if (ob != nb && (ob == '0' || ob == '1') && (nb == '0' || nb == '1'))
            s->toggles[b] += 1;
        s->val[k] = nb;
    }
    s->t_last = t;
}

/* Reads act.vcd: cell pins are the 1-bit vars of scopes directly under the DUT scope (one
 * scope per cell instance); ports are the DUT's own vars named in ports[]. */
static td_status vcd_read(vcd *v, const char *path, const char *const *ports)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return td_fail(TD_ERR_IO, "%s: cannot open the simulation dump", path);
    memset(v, 0, sizeof *v);
    v->clk = -1;
    char line[4096], scope[8][64];
    int depth = 0, dut_depth = -1;
    bool defs = true, started = false;
    int64_t t = 0;
    td_status st = TD_OK;
    while (fgets(line, sizeof line, fp)) {
        if (defs) {
            char a[64], b[64], code[32], name[256];
            int w;
            if (sscanf(line, " $scope %63s %63s", a, b) == 2) {
                if (depth < 8)
                    snprintf(scope[depth], sizeof scope[0], "%s", b);
                depth++;
                if (dut_depth < 0 && strcmp(b, "dut") == 0)
                    dut_depth = depth;
            } else if (strstr(line, "$upscope")) {
                depth--;
            } else if (sscanf(line, " $var %63s %d %31s %255s", a, &w, code, name) == 4) {
                if (dut_depth < 0 || depth < dut_depth || depth > dut_depth + 1)
                    continue;
                bool is_port = false;
                if (depth == dut_depth) {
                    for (const char *const *p = ports; *p; p++)
                        is_port |= strcmp(*p, name) == 0;
                    if (!is_port && strcmp(name, "clk_i") != 0)
                        continue;
                } else if (w != 1) {
                    continue;
                }
                int idx = vcd_add_sig(v, code, w);
                if (depth == dut_depth && strcmp(name, "clk_i") == 0) {
                    v->clk = idx;
                    if (!is_port)
                        continue;
                }
                if (v->n_pins == v->cap_pins) {
                    v->cap_pins = v->cap_pins ? 2 * v->cap_pins : 4096;
                    v->pins = realloc(v->pins, v->cap_pins * sizeof *v->pins);
                }
                vcd_pin *p = &v->pins[v->n_pins++];
                snprintf(p->inst, sizeof p->inst, "%.47s",
                         depth == dut_depth ? "" : scope[(dut_depth < 8 ? dut_depth : 7)]);
                snprintf(p->pin, sizeof p->pin, "%.15s", name);
                p->sig = idx;
                p->port = depth == dut_depth;
            } else if (strstr(line, "$enddefinitions")) {
                defs = false;
            }
            continue;
        }
        char *s = line;
        while (*s == ' ')
            s++;
        s[strcspn(s, "\r\n")] = '\0';
        if (*s == '#') {
            t = strtoll(s + 1, NULL, 10);
            if (!started) {
                v->t0 = t;
                started = true;
            }
            v->t1 = t;
        } else if (*s == '0' || *s == '1' || *s == 'x' || *s == 'z') {
            int idx = vcd_find(v, s + 1);
            if (idx >= 0) {
                char b[2] = {*s == 'z' ? 'x' : *s, '\0'};
                vcd_set(v, idx, b, t);
            }
        } else if (*s == 'b') {
            char *sp = strchr(s, ' ');
            if (!sp)
                continue;
            *sp = '\0';
            int idx = vcd_find(v, sp + 1);
            if (idx >= 0)
                vcd_set(v, idx, s + 1, t);
        }
    }
    fclose(fp);
    if (dut_depth < 0)
        st = td_fail(TD_ERR_PARSE, "%s: no 'dut' scope in the dump", path);
    else if (v->clk < 0)
        st = td_fail(TD_ERR_PARSE, "%s: no clk_i in the dut scope", path);
    else {
        /* close the high-time accounting at the last time stamp */
        for (size_t i = 0; i < v->n_sigs; i++) {
            vcd_sig *sg = &v->sigs[i];
            for (int b = 0; b < sg->width; b++)
                if (sg->val[sg->width - 1 - b] == '1')
                    sg->high[b] += (double)(v->t1 - sg->t_last);
            sg->t_last = v->t1;
        }
    }
    return st;
}

static bool is_lib_pin(const ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_pin_names; i++)
        if (strcmp(c->pin_name[i], name) == 0)
            return true;
    return false;
}

static td_status job_activity(const ctx *c, job *j)
{
    char args[4096], path[1200];
    snprintf(args, sizeof args,
             "--binary --timing -Wno-fatal -Wno-lint -Wno-style --trace --trace-underscore "
             "-Mdir obj -MAKEFLAGS 'OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0' -j 2 "
             "-GRows=%d -GCols=%d -GBits=%d -GAccBits=%d -GDataflow=%d -GTiles=%d -GK=%d "
             "-GSeed=%d --top-module calib_tb_array %s/hw_model/calibration/calib_tb_array.sv "
             "netlist.v '%s'",
             j->rows, j->cols, j->bits, j->acc, j->df, power_tiles, power_k, power_seed, c->src,
             c->cells_v);
    /* an earlier run's dump, newer than this netlist and the testbench, is reused */
    char vcd_path[1200], net_path[1200], tb_path[1200], cmd_path[1200];
    snprintf(vcd_path, sizeof vcd_path, "%s/act.vcd", j->dir);
    snprintf(net_path, sizeof net_path, "%s/netlist.v", j->dir);
    snprintf(tb_path, sizeof tb_path, "%s/hw_model/calibration/calib_tb_array.sv", c->src);
    snprintf(cmd_path, sizeof cmd_path, "%s/verilator.cmd", j->dir);
    char *old_args = read_text(cmd_path);
    /* (a dump without verilator.cmd comes from a first version of this command, same args) */
    bool cached = (!old_args || strcmp(old_args, args) == 0) && mtime_of(vcd_path) > 0 &&
                  mtime_of(vcd_path) > mtime_of(net_path) && mtime_of(vcd_path) > mtime_of(tb_path);
    free(old_args);
    td_status st = TD_OK;
    if (cached) {
        td_log_info("calibrate: %s: reusing the simulation dump %s", j->name, vcd_path);
    } else {
        st = write_text(cmd_path, args);
        if (st == TD_OK)
            st = tool_run("verilator", j->dir, args, "verilator.log", j->name);
        if (st == TD_OK)
            st = tool_run("./obj/Vcalib_tb_array", j->dir, "", "sim.log", j->name);
    }
    if (st != TD_OK)
        return st;
    static const char *const ports[] = {"a_i", "b_i", "shift_i", "clear_i", "en_i", "rst_ni", NULL};
    vcd v;
    snprintf(path, sizeof path, "%s/act.vcd", j->dir);
    st = vcd_read(&v, path, ports);
    if (st != TD_OK) {
        vcd_free(&v);
        return st;
    }
    const vcd_sig *clk = &v.sigs[v.clk];
    j->cycles = clk->toggles[0] / 2.0;
    double span = (double)(v.t1 - v.t0);
    if (j->cycles < 1 || span <= 0) {
        vcd_free(&v);
        return td_fail(TD_ERR_PARSE, "%s: the clock does not toggle", path);
    }
    j->macs = (double)power_tiles * power_k * j->rows * j->cols;
    snprintf(path, sizeof path, "%s/activity.tcl", j->dir);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        vcd_free(&v);
        return td_fail(TD_ERR_IO, "%s: cannot write", path);
    }
    fprintf(fp,
            "# per-pin activity (transitions per clock cycle) and duty from %s/act.vcd:\n"
            "# %g cycles of %d random GEMM tiles (K = %d) of the gate-level netlist\n",
            j->dir, j->cycles, power_tiles, power_k);
    j->act_pins = 0;
    for (size_t i = 0; i < v.n_pins; i++) {
        const vcd_pin *p = &v.pins[i];
        const vcd_sig *s = &v.sigs[p->sig];
        for (int b = 0; b < s->width; b++) {
            double act = s->toggles[b] / j->cycles, duty = s->high[b] / span;
            if (p->port) {
                if (s->width > 1)
                    fprintf(fp, "set_power_activity -input_ports [get_ports {%s[%d]}]", p->pin, b);
                else
                    fprintf(fp, "set_power_activity -input_ports [get_ports {%s}]", p->pin);
                fprintf(fp, " -activity %.6g -duty %.6g\n", act, duty);
            } else if (strcmp(p->pin, "CLK") != 0 && is_lib_pin(c, p->pin)) {
                /* (clock pins keep the clock's own activity) */
                /* OpenSTA 2.0.17's `set_power_activity -pins` fails (it reads an unset
                 * variable), so the command it would call is called directly */
                fprintf(fp, "sta::set_power_pin_activity [get_pins {%s/%s}] %.6g %.6g\n", p->inst,
                        p->pin, act, duty);
            } else {
                continue;
            }
            j->act_pins++;
        }
    }
    vcd_free(&v);
    if (fclose(fp) != 0)
        return td_fail(TD_ERR_IO, "%s: write failed", path);
    if (j->act_pins == 0)
        return td_fail(TD_ERR_PARSE, "%s/act.vcd: no cell pins in the dump", j->dir);
    return TD_OK;
}

/* ------------------------------------------------------------------ OpenSTA */

static td_status job_sta(const ctx *c, job *j)
{
    char tcl[4096], path[1200];
    int n = snprintf(tcl, sizeof tcl,
                     "read_liberty %s\n"
                     "read_verilog netlist.v\n"
                     "link_design %s\n"
                     "create_clock -name clk -period %g [get_ports clk_i]\n"
                     "set_input_delay 0 -clock clk [delete_from_list [all_inputs] "
                     "[get_ports clk_i]]\n"
                     "set_output_delay 0 -clock clk [all_outputs]\n",
                     c->liberty, job_top(j), sta_period_ns);
    if (j->timing && j->kind == J_PE) {
        /* the PE as it sits inside a deep array: its a_i, b_i and c_i come from neighbours'
         * flip-flops, so input paths get that flip-flop's clock-to-Q (taken from the PE's own
         * register-to-register path) */
        n += snprintf(tcl + n, sizeof tcl - (size_t)n,
                      "puts \"TANDEM-IN\"\n"
                      "report_checks -path_delay max -digits 4 -from [delete_from_list "
                      "[all_inputs] [get_ports {clk_i rst_ni}]] -to [all_registers -data_pins]\n"
                      "puts \"TANDEM-RR\"\n"
                      "report_checks -path_delay max -digits 4 -from [all_registers "
                      "-clock_pins] -to [all_registers -data_pins]\n");
    } else if (j->timing) {
        if (j->kind == J_ARRAY)
            n += snprintf(tcl + n, sizeof tcl - (size_t)n,
                          "puts \"TANDEM-TIMING\"\n"
                          "report_checks -path_delay max -digits 4 -from [all_registers "
                          "-clock_pins] -to [all_registers -data_pins]\n");
        else
            n += snprintf(tcl + n, sizeof tcl - (size_t)n,
                          "puts \"TANDEM-TIMING\"\nreport_checks -path_delay max -digits 4\n");
    }
    if (j->power)
        n += snprintf(tcl + n, sizeof tcl - (size_t)n,
                      "source activity.tcl\nputs \"TANDEM-POWER\"\nreport_power -digits 6\n");
    snprintf(tcl + n, sizeof tcl - (size_t)n, "exit\n");
    snprintf(path, sizeof path, "%s/sta.tcl", j->dir);
    td_status st = write_text(path, tcl);
    if (st == TD_OK)
        st = tool_run("sta", j->dir, "-no_init -no_splash sta.tcl", "sta.log", j->name);
    if (st != TD_OK)
        return st;
    snprintf(path, sizeof path, "%s/sta.log", j->dir);
    char *log = read_text(path);
    if (!log)
        return td_fail(TD_ERR_IO, "%s: cannot read", path);
    if (strstr(log, "Error:")) {
        free(log);
        return td_fail(TD_ERR_IO, "sta reported an error on %s: see %s", j->name, path);
    }
    if (j->timing && j->kind == J_PE) {
        char *in = strstr(log, "TANDEM-IN"), *rr = in ? strstr(in, "TANDEM-RR") : NULL;
        char *s_in = in ? strstr(in, "slack (") : NULL, *s_rr = rr ? strstr(rr, "slack (") : NULL;
        char *q = rr ? strstr(rr, "/Q (") : NULL;
        if (!s_in || !s_rr || !q || s_in > rr || q > s_rr) {
            free(log);
            return td_fail(TD_ERR_PARSE, "sta: no input or register path for %s in %s", j->name,
                           path);
        }
        char *b = s_in, *e = s_rr, *qb = q;
        while (b > in && b[-1] != '\n')
            b--;
        while (e > rr && e[-1] != '\n')
            e--;
        while (qb > rr && qb[-1] != '\n')
            qb--;
        double d_in = sta_period_ns - strtod(b, NULL) + strtod(qb, NULL);
        double d_rr = sta_period_ns - strtod(e, NULL);
        j->delay_ns = d_in > d_rr ? d_in : d_rr;
        j->fmax_mhz = 1000.0 / j->delay_ns;
    } else if (j->timing) {
        /* one path per path group (clk, async_default recovery checks, ...): the worst slack */
        char *t = strstr(log, "TANDEM-TIMING");
        char *end = t ? strstr(t, "TANDEM-POWER") : NULL;
        double slack = INFINITY;
        for (char *s = t ? strstr(t, "slack (") : NULL; s && (!end || s < end);
             s = strstr(s + 1, "slack (")) {
            char *b = s;
            while (b > t && b[-1] != '\n')
                b--;
            double v = strtod(b, NULL);
            if (v < slack)
                slack = v;
        }
        if (!isfinite(slack)) {
            free(log);
            return td_fail(TD_ERR_PARSE, "sta: no timing path for %s in %s", j->name, path);
        }
        j->delay_ns = sta_period_ns - slack;
        j->fmax_mhz = 1000.0 / j->delay_ns;
    }
    if (j->power) {
        char *p = strstr(log, "TANDEM-POWER");
        char *seq = p ? strstr(p, "Sequential") : NULL;
        char *comb = p ? strstr(p, "Combinational") : NULL;
        char *tot = p ? strstr(p, "\nTotal") : NULL;
        double si, ss, sl, st_, ci, cs, cl, ct, ti, ts, tl, tt;
        if (!seq || !comb || !tot ||
            sscanf(seq, "Sequential %lf %lf %lf %lf", &si, &ss, &sl, &st_) != 4 ||
            sscanf(comb, "Combinational %lf %lf %lf %lf", &ci, &cs, &cl, &ct) != 4 ||
            sscanf(tot, "\nTotal %lf %lf %lf %lf", &ti, &ts, &tl, &tt) != 4) {
            free(log);
            return td_fail(TD_ERR_PARSE, "sta: no power report for %s in %s", j->name, path);
        }
        j->clock_mhz = 1000.0 / sta_period_ns;
        j->p_int_mw = ti * 1e3;
        j->p_sw_mw = ts * 1e3;
        j->p_leak_mw = tl * 1e3;
        j->p_total_mw = tt * 1e3;
        j->p_seq_mw = st_ * 1e3;
        j->p_comb_mw = ct * 1e3;
        /* energy = power x time of the simulated window, per MAC done in it */
        const double window_s = j->cycles * sta_period_ns * 1e-9;
        j->mac_pj = tt * window_s / j->macs * 1e12;
        j->mac_seq_pj = st_ * window_s / j->macs * 1e12;
        j->mac_comb_pj = ct * window_s / j->macs * 1e12;
    }
    free(log);
    return TD_OK;
}

static td_status job_run(const ctx *c, job *j)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    snprintf(j->dir, sizeof j->dir, "%.1000s/%.63s", c->work, j->name);
    td_status st = mkdir_p(j->dir);
    if (st == TD_OK)
        st = job_synth(c, j);
    if (st == TD_OK && j->power)
        st = job_activity(c, j);
    if (st == TD_OK && (j->timing || j->power))
        st = job_sta(c, j);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    j->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (st == TD_OK)
        td_log_info("calibrate: %-26s area %10.0f um^2  fmax %6.0f MHz  %7.3f pJ/MAC  (%.0f s)",
                    j->name, j->area_um2, j->timing ? j->fmax_mhz : NAN, j->power ? j->mac_pj : NAN,
                    j->seconds);
    return st;
}

/* ------------------------------------------------------------------ the plan */

typedef struct plan {
    job *jobs;
    size_t n, cap;
} plan;

static job *plan_add(plan *p, job_kind kind, int df, int bits, int rows, int cols)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->jobs = realloc(p->jobs, p->cap * sizeof *p->jobs);
    }
    job *j = &p->jobs[p->n++];
    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->df = df;
    j->bits = bits;
    j->acc = acc_for_bits(bits);
    j->rows = rows;
    j->cols = cols;
    j->lanes = kind == J_VECTOR ? rows : 0;
    job_name(j);
    return j;
}

static void plan_build(plan *p, bool quick)
{
    static const int bits_all[] = {4, 8, 16, 32};
    if (quick) {
        plan_add(p, J_PE, HW_DATAFLOW_WS, 8, 1, 1)->timing = true;
        job *a = plan_add(p, J_ARRAY, HW_DATAFLOW_WS, 8, 2, 2);
        a->timing = a->power = true;
        plan_add(p, J_MULT, 0, 8, 0, 0);
        plan_add(p, J_ADD, 0, 32, 0, 0);
        return;
    }
    for (int df = 0; df < 2; df++)
        for (int b = 0; b < 4; b++) {
            plan_add(p, J_PE, df, bits_all[b], 1, 1)->timing = true;
            job *a = plan_add(p, J_ARRAY, df, bits_all[b], 2, 2);
            a->timing = a->power = true;
        }
    static const int shapes[][2] = {{2, 4}, {4, 2}, {4, 4}, {4, 8}, {8, 8}};
    for (int df = 0; df < 2; df++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            plan_add(p, J_ARRAY, df, 8, shapes[s][0], shapes[s][1]);
    plan_add(p, J_MULT, 0, 8, 0, 0);
    plan_add(p, J_MULT, 0, 32, 0, 0);
    plan_add(p, J_ADD, 0, 8, 0, 0);
    plan_add(p, J_ADD, 0, 32, 0, 0);
    plan_add(p, J_ADD, 0, 64, 0, 0);
    /* vector unit at 1, 2 and 4 lanes for the per-lane fit (abc -fast: about 8, 15 and 30 s of
     * Yosys; job_synth) */
    static const int lanes[] = {1, 2, 4};
    for (size_t l = 0; l < sizeof lanes / sizeof lanes[0]; l++) {
        job *v = plan_add(p, J_VECTOR, 0, 8, lanes[l], 0);
        v->timing = true;
    }
    job *c4 = plan_add(p, J_CTRL, HW_DATAFLOW_WS, 8, 4, 4);
    job *c16 = plan_add(p, J_CTRL, HW_DATAFLOW_WS, 8, 16, 16);
    c4->timing = c16->timing = true;
}

static const job *plan_find(const plan *p, job_kind kind, int df, int bits, int rows, int cols)
{
    for (size_t i = 0; i < p->n; i++) {
        const job *j = &p->jobs[i];
        if (j->kind == kind && j->bits == bits &&
            (kind == J_MULT || kind == J_ADD || kind == J_VECTOR || j->df == df) &&
            j->rows == rows && j->cols == cols)
            return j;
    }
    return NULL;
}

/* ------------------------------------------------------------------ output */

static json_t *job_json(const job *j)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(j->name));
    json_object_set_new(o, "kind", json_string(kind_names[j->kind]));
    if (j->kind == J_PE || j->kind == J_ARRAY || j->kind == J_CTRL)
        json_object_set_new(o, "dataflow", json_string(j->df ? "os" : "ws"));
    json_object_set_new(o, "bits", json_integer(j->bits));
    if (j->kind == J_PE || j->kind == J_ARRAY || j->kind == J_VECTOR)
        json_object_set_new(o, "acc_bits", json_integer(j->acc));
    if (j->kind == J_ARRAY || j->kind == J_CTRL) {
        json_object_set_new(o, "rows", json_integer(j->rows));
        json_object_set_new(o, "cols", json_integer(j->cols));
    }
    if (j->kind == J_VECTOR) {
        json_object_set_new(o, "lanes", json_integer(j->lanes));
        json_object_set_new(o, "abc", json_string("fast (abc -fast -liberty; job_synth)"));
    }
    json_object_set_new(o, "area_um2", td_json_real(j->area_um2));
    json_object_set_new(o, "ff_area_um2", td_json_real(j->ff_area_um2));
    json_object_set_new(o, "cells", json_integer(j->cells));
    json_object_set_new(o, "flip_flops", json_integer(j->ffs));
    if (j->timing) {
        json_object_set_new(o, "delay_ns", td_json_real(j->delay_ns));
        json_object_set_new(o, "fmax_mhz", td_json_real(j->fmax_mhz));
        json_object_set_new(o, "timing_paths",
                            json_string(j->kind == J_ARRAY ? "register to register"
                                        : j->kind == J_PE
                                            ? "inputs (at a flip-flop's clock-to-Q) and registers"
                                            : "all, inputs at 0 ns"));
    }
    if (j->power) {
        json_t *p = json_object();
        json_object_set_new(p, "clock_mhz", td_json_real(j->clock_mhz));
        json_object_set_new(p, "cycles", td_json_real(j->cycles));
        json_object_set_new(p, "macs", td_json_real(j->macs));
        json_object_set_new(p, "internal_mw", td_json_real(j->p_int_mw));
        json_object_set_new(p, "switching_mw", td_json_real(j->p_sw_mw));
        json_object_set_new(p, "leakage_mw", td_json_real(j->p_leak_mw));
        json_object_set_new(p, "total_mw", td_json_real(j->p_total_mw));
        json_object_set_new(p, "sequential_mw", td_json_real(j->p_seq_mw));
        json_object_set_new(p, "combinational_mw", td_json_real(j->p_comb_mw));
        json_object_set_new(p, "mac_pj", td_json_real(j->mac_pj));
        json_object_set_new(p, "mac_seq_pj", td_json_real(j->mac_seq_pj));
        json_object_set_new(p, "mac_comb_pj", td_json_real(j->mac_comb_pj));
        json_object_set_new(p, "activity_pins", json_integer((json_int_t)j->act_pins));
        char a[256];
        snprintf(a, sizeof a,
                 "per-pin toggle counts from a Verilator run of the gate-level netlist on %d "
                 "random GEMM tiles (K = %d, seed %d)",
                 power_tiles, power_k, power_seed);
        json_object_set_new(p, "activity", json_string(a));
        json_object_set_new(o, "power", p);
    }
    json_object_set_new(o, "seconds", td_json_real(j->seconds));
    json_object_set_new(o, "source", json_string("synthesis"));
    return o;
}

static json_t *fit_json(const char *model, const hw_calib_fit *f, const double *resid, size_t n,
                        json_t *points)
{
    json_t *o = json_object(), *coef = json_array(), *res = json_array();
    json_object_set_new(o, "model", json_string(model));
    for (size_t i = 0; i < f->n_coef; i++)
        json_array_append_new(coef, td_json_real(f->coef[i]));
    for (size_t i = 0; i < n; i++)
        json_array_append_new(res, td_json_real(resid[i]));
    json_object_set_new(o, "coef", coef);
    json_object_set_new(o, "residuals_rel", res);
    json_object_set_new(o, "rms_rel", td_json_real(f->rms_rel));
    json_object_set_new(o, "points", points);
    json_object_set_new(o, "method", json_string("GSL gsl_multifit_linear (least squares)"));
    return o;
}

static void table_set(json_t *t, const char *name, double v, const char *unit, const char *src)
{
    if (!isfinite(v))
        return;
    json_t *e = json_object();
    json_object_set_new(e, "value", td_json_real(v));
    json_object_set_new(e, "unit", json_string(unit));
    json_object_set_new(e, "source", json_string(src));
    json_object_set_new(t, name, e);
}

/* power law through (8, v8) and (32, v32), as hw_tech.c */
static double plaw(double v8, double v32, double bits)
{
    return v8 * pow(bits / 8.0, log(v32 / v8) / log(4.0));
}

static td_status build_output(const ctx *c, const plan *p, bool quick, json_t **out)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(HW_CALIB_FORMAT));
    json_object_set_new(root, "version", json_integer(HW_CALIB_VERSION));
    json_t *lib = json_object();
    json_object_set_new(lib, "name", json_string(c->lib));
    json_object_set_new(lib, "liberty", json_string(c->liberty));
    json_object_set_new(lib, "node_nm", json_integer(180));
    json_object_set_new(lib, "vdd_v", json_real(1.8));
    json_object_set_new(lib, "corner", json_string("typical, 25 C (the liberty's only corner)"));
    json_object_set_new(root, "library", lib);
    json_t *tools = json_object();
    json_object_set_new(tools, "yosys", json_string(c->yosys_v));
    json_object_set_new(tools, "sta", json_string(c->sta_v));
    json_object_set_new(tools, "verilator", json_string(c->verilator_v));
    json_object_set_new(tools, "tandem", json_string(TD_VERSION));
    /* the commit the binary was built from (git describe at configure time), so that a
     * calibration file says which RTL it measured when run from the same checkout */
    json_object_set_new(tools, "tandem_git", json_string(TD_GIT));
    json_object_set_new(root, "tools", tools);
    json_object_set_new(root, "quick", json_boolean(quick));
    json_object_set_new(
        root, "flow",
        json_string("yosys: synth -flatten; dfflibmap; abc -liberty (area-oriented, no delay "
                    "target; the vector unit: abc -fast -liberty); OpenSTA: ideal clock, inputs "
                    "and outputs at 0 ns, no wire load "
                    "model; fmax from the 2x2 array's register-to-register paths; power at "
                    "100 MHz with per-pin activities from Verilator"));

    json_t *comps = json_array();
    for (size_t i = 0; i < p->n; i++)
        json_array_append_new(comps, job_json(&p->jobs[i]));
    json_object_set_new(root, "components", comps);

    /* per-PE summary that hw_calib reads */
    json_t *pes = json_array();
    static const int bits_all[] = {4, 8, 16, 32};
    for (int df = 0; df < 2; df++)
        for (int b = 0; b < 4; b++) {
            const job *pe = plan_find(p, J_PE, df, bits_all[b], 1, 1);
            const job *ar = plan_find(p, J_ARRAY, df, bits_all[b], 2, 2);
            if (!pe && !ar)
                continue;
            json_t *o = json_object();
            json_object_set_new(o, "dataflow", json_string(df ? "os" : "ws"));
            json_object_set_new(o, "bits", json_integer(bits_all[b]));
            json_object_set_new(o, "acc_bits", json_integer(acc_for_bits(bits_all[b])));
            if (pe) {
                json_object_set_new(o, "area_um2", td_json_real(pe->area_um2));
                json_object_set_new(o, "fmax_mhz", td_json_real(pe->fmax_mhz));
            }
            if (ar) {
                json_object_set_new(o, "mac_pj", td_json_real(ar->mac_pj));
                json_object_set_new(o, "mac_seq_pj", td_json_real(ar->mac_seq_pj));
                json_object_set_new(o, "mac_comb_pj", td_json_real(ar->mac_comb_pj));
            }
            json_object_set_new(o, "source",
                                json_string("synthesis (area and fmax: the PE alone, inputs "
                                            "from flip-flops; energy per MAC: the 2x2 array)"));
            json_array_append_new(pes, o);
        }
    json_object_set_new(root, "pe", pes);

    /* fits */
    json_t *fits = json_object();
    td_status st = TD_OK;
    for (int df = 0; df < 2 && !quick; df++) {
        double X[16 * 4], y[16], r[16];
        size_t n = 0;
        json_t *pts = json_array();
        for (size_t i = 0; i < p->n && n < 16; i++) {
            const job *j = &p->jobs[i];
            if (j->kind != J_ARRAY || j->df != df || j->bits != 8)
                continue;
            double *x = &X[n * 4];
            x[0] = 1;
            x[1] = (double)j->rows * j->cols;
            x[2] = j->rows;
            x[3] = j->cols;
            y[n++] = j->area_um2;
            json_t *pt = json_object();
            json_object_set_new(pt, "rows", json_integer(j->rows));
            json_object_set_new(pt, "cols", json_integer(j->cols));
            json_object_set_new(pt, "area_um2", td_json_real(j->area_um2));
            json_array_append_new(pts, pt);
        }
        hw_calib_fit f;
        if ((st = hw_calib_fit_linear(X, y, n, 4, &f, r)) != TD_OK) {
            json_decref(pts);
            goto fail;
        }
        json_object_set_new(
            fits, df ? "array_area_os" : "array_area_ws",
            fit_json("k0 + k1*R*C + k2*R + k3*C (um^2, 8 bits, AccBits 32)", &f, r, n, pts));
    }
    for (int df = 0; df < 2 && !quick; df++) {
        for (int what = 0; what < 2; what++) { /* PE area, energy per MAC vs bits */
            double X[4 * 3], y[4], r[4];
            size_t n = 0;
            json_t *pts = json_array();
            for (int b = 0; b < 4; b++) {
                const job *j = what == 0 ? plan_find(p, J_PE, df, bits_all[b], 1, 1)
                                         : plan_find(p, J_ARRAY, df, bits_all[b], 2, 2);
                if (!j)
                    continue;
                double bb = bits_all[b];
                X[n * 3] = 1;
                X[n * 3 + 1] = bb;
                X[n * 3 + 2] = bb * bb;
                y[n++] = what == 0 ? j->area_um2 : j->mac_pj;
                json_t *pt = json_object();
                json_object_set_new(pt, "bits", json_integer(bits_all[b]));
                json_object_set_new(pt, what == 0 ? "area_um2" : "mac_pj", td_json_real(y[n - 1]));
                json_array_append_new(pts, pt);
            }
            hw_calib_fit f;
            if ((st = hw_calib_fit_linear(X, y, n, 3, &f, r)) != TD_OK) {
                json_decref(pts);
                goto fail;
            }
            char key[32];
            snprintf(key, sizeof key, "%s_%s", what == 0 ? "pe_area" : "mac_energy",
                     df ? "os" : "ws");
            json_object_set_new(fits, key,
                                fit_json(what == 0 ? "c0 + c1*b + c2*b^2 (um^2; AccBits 32 up "
                                                     "to 8 bits, 2b above)"
                                                   : "c0 + c1*b + c2*b^2 (pJ per MAC, 2x2 array)",
                                         &f, r, n, pts));
        }
    }
    size_t n_vec = 0;
    for (size_t i = 0; i < p->n; i++)
        n_vec += p->jobs[i].kind == J_VECTOR;
    if (!quick && n_vec >= 2) {
        double X[3 * 2], y[3], r[3];
        size_t n = 0;
        json_t *pts = json_array();
        for (size_t i = 0; i < p->n; i++) {
            const job *j = &p->jobs[i];
            if (j->kind != J_VECTOR)
                continue;
            X[n * 2] = 1;
            X[n * 2 + 1] = j->lanes;
            y[n++] = j->area_um2;
            json_t *pt = json_object();
            json_object_set_new(pt, "lanes", json_integer(j->lanes));
            json_object_set_new(pt, "area_um2", td_json_real(j->area_um2));
            json_array_append_new(pts, pt);
        }
        hw_calib_fit f;
        if ((st = hw_calib_fit_linear(X, y, n, 2, &f, r)) != TD_OK) {
            json_decref(pts);
            goto fail;
        }
        json_object_set_new(fits, "vector_area",
                            fit_json("v0 + v1*lanes (um^2, 8 bits, AccBits 32)", &f, r, n, pts));
    }
    const job *c16 = plan_find(p, J_CTRL, HW_DATAFLOW_WS, 8, 16, 16);
    if (c16)
        json_object_set_new(root, "controller_um2", td_json_real(c16->area_um2));
    json_object_set_new(root, "fits", fits);

    /* hw_tech table entries at 180 nm */
    json_t *t = json_object();
    const job *m8 = plan_find(p, J_MULT, 0, 8, 0, 0), *m32 = plan_find(p, J_MULT, 0, 32, 0, 0);
    const job *a8 = plan_find(p, J_ADD, 0, 8, 0, 0), *a32 = plan_find(p, J_ADD, 0, 32, 0, 0);
    const job *a64 = plan_find(p, J_ADD, 0, 64, 0, 0);
    const job *ar8 = plan_find(p, J_ARRAY, HW_DATAFLOW_WS, 8, 2, 2);
    const job *ar32 = plan_find(p, J_ARRAY, HW_DATAFLOW_WS, 32, 2, 2);
    const job *pe8 = plan_find(p, J_PE, HW_DATAFLOW_WS, 8, 1, 1);
    if (m8)
        table_set(t, "mult8_um2", m8->area_um2, "um^2", "synthesis: calib_mult Bits=8 alone");
    if (m32)
        table_set(t, "mult32_um2", m32->area_um2, "um^2", "synthesis: calib_mult Bits=32 alone");
    if (a8)
        table_set(t, "add8_um2", a8->area_um2, "um^2", "synthesis: calib_add Bits=8 alone");
    if (a32)
        table_set(t, "add32_um2", a32->area_um2, "um^2", "synthesis: calib_add Bits=32 alone");
    if (pe8 && pe8->ffs > 0)
        table_set(t, "ff_um2", pe8->ff_area_um2 / (double)pe8->ffs, "um^2",
                  "synthesis: flip-flop cell dfflibmap chose for the PE (liberty area)");
    /* energy: the 2x2 array's sequential power per MAC is the pipeline registers (WS: b + acc
     * bits per MAC, as hw_eval counts them); its combinational power is split into multiplier
     * and adder in proportion to their synthesized areas (assumption, docs/calibration.md) */
    if (ar8 && m8 && a32) {
        double share = m8->area_um2 / (m8->area_um2 + a32->area_um2);
        table_set(t, "mult8_pj", ar8->mac_comb_pj * share, "pJ",
                  "synthesis+power: 2x2 WS array, combinational energy per MAC x multiplier "
                  "area share");
        table_set(t, "add32_pj", ar8->mac_comb_pj * (1 - share), "pJ",
                  "synthesis+power: 2x2 WS array, combinational energy per MAC x adder area "
                  "share");
        table_set(t, "reg_bit_pj", ar8->mac_seq_pj / (8.0 + ar8->acc), "pJ",
                  "synthesis+power: 2x2 WS array, sequential energy per MAC / (bits + acc_bits)");
        if (a8)
            table_set(t, "add8_pj", ar8->mac_comb_pj * (1 - share) * a8->area_um2 / a32->area_um2,
                      "pJ", "add32_pj x add8_um2 / add32_um2 (energy in proportion to area)");
        /* leakage: measured, but not put in the table: a 180 nm library's leakage density
         * says nothing about 45 nm, and the scaling paper's polynomials are for dynamic
         * energy (docs/calibration.md) */
        json_t *lk = json_object();
        json_object_set_new(lk, "leak_mw_per_mm2_180nm",
                            td_json_real(ar8->p_leak_mw / (ar8->area_um2 * 1e-6)));
        json_object_set_new(lk, "note",
                            json_string("OpenSTA leakage of the 2x2 8-bit WS array / "
                                        "its area; not used (not scalable)"));
        json_object_set_new(root, "measured_not_used", lk);
    }
    if (ar32 && m32 && a64) {
        double share = m32->area_um2 / (m32->area_um2 + a64->area_um2);
        table_set(t, "mult32_pj", ar32->mac_comb_pj * share, "pJ",
                  "synthesis+power: 2x2 WS array at 32 bits (AccBits 64), combinational energy "
                  "per MAC x multiplier area share");
    }
    if (c16)
        table_set(t, "ctrl_um2", c16->area_um2, "um^2",
                  "synthesis: rtl_controller 16x16 (scratchpads and DMA not included)");
    (void)plaw;
    json_object_set_new(root, "table", t);
    json_object_set_new(
        root, "provenance",
        json_string("components, pe, fits and table: synthesis of this repository's RTL at "
                    "180 nm (Yosys + OpenSTA + Verilator); scaling to other nodes: Stillmaker & "
                    "Baas 2017 (hw_calib.c); SRAM, DRAM, command energy: published figures of "
                    "hw_tech.c (the cell library has no SRAM)"));
    *out = root;
    return TD_OK;
fail:
    json_decref(root);
    return st;
}

/* ------------------------------------------------------------------ entry */

static td_status ctx_init(ctx *c, const char *lib, const char *liberty, const char *work,
                          const char *src)
{
    memset(c, 0, sizeof *c);
    snprintf(c->lib, sizeof c->lib, "%s", lib);
    if (strcmp(lib, "osu018") != 0)
        return td_fail(TD_ERR_USAGE, "--lib %s: unknown cell library (known: osu018)", lib);
    snprintf(c->liberty, sizeof c->liberty, "%s",
             liberty ? liberty : "/usr/share/qflow/tech/osu018/osu018_stdcells.lib");
    if (access(c->liberty, R_OK) != 0)
        return td_fail(TD_ERR_IO,
                       "%s: liberty file not found (Debian package qflow-tech-osu018; "
                       "`dpkg -L qflow-tech-osu018 | grep lib$`)",
                       c->liberty);
    const char *env = getenv("TANDEM_SOURCE_DIR");
    snprintf(c->src, sizeof c->src, "%s", src ? src : env && *env ? env : ".");
    char probe[1200];
    snprintf(probe, sizeof probe, "%s/rtl_templates/sv/rtl_mac_pe.sv", c->src);
    if (access(probe, R_OK) != 0)
        return td_fail(TD_ERR_IO, "%s: RTL template not found (set --src to the repository root)",
                       probe);
    if (work) {
        snprintf(c->work, sizeof c->work, "%s", work);
        td_status st = mkdir_p(c->work);
        if (st != TD_OK)
            return st;
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(c->work, sizeof c->work, "%s/tandem-calibrate.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(c->work))
            return td_fail(TD_ERR_IO, "%s: cannot create the work folder: %s", c->work,
                           strerror(errno));
    }
    if (c->work[0] != '/') { /* tools run in per-component folders: make paths absolute */
        char cwd[512];
        if (getcwd(cwd, sizeof cwd)) {
            char w[1024];
            snprintf(w, sizeof w, "%.400s/%.600s", cwd, c->work);
            snprintf(c->work, sizeof c->work, "%s", w);
        }
    }
    if (c->src[0] != '/') {
        char cwd[512];
        if (getcwd(cwd, sizeof cwd)) {
            char s[1024];
            snprintf(s, sizeof s, "%.400s/%.600s", cwd, c->src);
            snprintf(c->src, sizeof c->src, "%s", s);
        }
    }
    td_status st;
    if ((st = tool_check("yosys", "yosys")) != TD_OK ||
        (st = tool_check("sta", "opensta")) != TD_OK)
        return st;
    return liberty_areas(c);
}

static td_status cells_model(ctx *c)
{
    char args[2200];
    snprintf(c->cells_v, sizeof c->cells_v, "%s/cells_sim.v", c->work);
    snprintf(args, sizeof args,
             "-q -p 'read_liberty -ignore_miss_func %s; proc; opt_clean; write_verilog -noattr "
             "cells_sim.v'",
             c->liberty);
    return tool_run("yosys", c->work, args, "cells_sim.log", "the liberty cell models");
}

static int run_validate(const char *cmd, ctx *c, const char *list, const char *calib_path,
                        bool json)
{
    plan p = {0};
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        int r, k;
        if (sscanf(s, "%dx%d", &r, &k) != 2 || r < 1 || k < 1 || r > 64 || k > 64) {
            free(p.jobs);
            return cmd_usage_error(cmd, "--validate: '%s' is not RxC with 1 <= R, C <= 64", s);
        }
        plan_add(&p, J_ARRAY, HW_DATAFLOW_WS, 8, r, k);
    }
    hw_calib cal;
    td_status st = hw_calib_load(&cal, calib_path);
    hw_tech_table t180;
    if (st == TD_OK)
        st = hw_calib_table(&cal, cal.lib_nm, &t180);
    if (st == TD_OK && !cal.array_area[HW_DATAFLOW_WS].have)
        st = td_fail(TD_ERR_CONFIG,
                     "%s: no array area fit (a --quick calibration); the arrays "
                     "are synthesized into the work folder for a later run",
                     calib_path);
    if (st != TD_OK && !(st == TD_ERR_CONFIG && cal.lib_nm > 0)) {
        free(p.jobs);
        return cmd_fail(cmd, st);
    }
    td_status st_cal = st;
    char cal_msg[600];
    snprintf(cal_msg, sizeof cal_msg, "%s", st_cal != TD_OK ? td_error_message() : "");
    st = TD_OK;
    json_t *rows = json_array();
    if (!json)
        printf("| array | Yosys area (um^2) | fitted model (um^2) | error | hw_model PE array "
               "(um^2) | error |\n|---|---|---|---|---|---|\n");
    double worst = 0;
    for (size_t i = 0; i < p.n && st == TD_OK; i++)
        st = job_run(c, &p.jobs[i]);
    if (st == TD_OK && st_cal != TD_OK)
        st = td_fail(st_cal, "%s", cal_msg);
    for (size_t i = 0; i < p.n && st == TD_OK; i++) {
        job *j = &p.jobs[i];
        double fit;
        if ((st = hw_calib_array_area_um2(&cal, HW_DATAFLOW_WS, j->rows, j->cols, &fit)) != TD_OK)
            break;
        hw_config cfg;
        memset(&cfg, 0, sizeof cfg); /* the PE-array area reads only the fields below */
        cfg.rows = j->rows;
        cfg.cols = j->cols;
        cfg.bits = 8;
        cfg.acc_bits = 32;
        cfg.dataflow = HW_DATAFLOW_WS;
        cfg.tech_nm = cal.lib_nm;
        hw_area_breakdown ab;
        hw_area_mm2(&cfg, &t180, &ab);
        double hm = ab.pe_array_mm2 * 1e6;
        double e1 = (fit - j->area_um2) / j->area_um2, e2 = (hm - j->area_um2) / j->area_um2;
        if (fabs(e1) > worst)
            worst = fabs(e1);
        json_t *o = job_json(j);
        json_object_set_new(o, "model_um2", td_json_real(fit));
        json_object_set_new(o, "model_error_rel", td_json_real(e1));
        json_object_set_new(o, "hw_model_pe_array_um2", td_json_real(hm));
        json_object_set_new(o, "hw_model_error_rel", td_json_real(e2));
        json_array_append_new(rows, o);
        if (!json)
            printf("| %dx%d | %.0f | %.0f | %+.1f %% | %.0f | %+.1f %% |\n", j->rows, j->cols,
                   j->area_um2, fit, 100 * e1, hm, 100 * e2);
        fflush(stdout);
    }
    free(p.jobs);
    if (st != TD_OK) {
        json_decref(rows);
        return cmd_fail(cmd, st);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "calibration", json_string(calib_path));
        json_object_set_new(o, "arrays", rows);
        json_object_set_new(o, "worst_model_error_rel", td_json_real(worst));
        json_object_set_new(o, "work", json_string(c->work));
        td_json_print(o);
    } else {
        json_decref(rows);
        printf("\nworst fitted-model error %.1f %% (work folder %s)\n", 100 * worst, c->work);
    }
    return 0;
}

/* ------------------------------------------------------------------ report */

static int run_report(const char *cmd, const char *calib_path, int node, bool json)
{
    hw_calib *cal = malloc(sizeof *cal);
    if (!cal)
        return 1;
    hw_tech_table t;
    td_status st = hw_calib_load(cal, calib_path);
    if (st == TD_OK)
        st = hw_calib_table(cal, node, &t);
    if (st != TD_OK) {
        free(cal);
        return cmd_fail(cmd, st);
    }
    double sa = 1, se = 1, sd = 1;
    hw_calib_scale(cal->lib_nm, node, &sa, &se, &sd);
    const hw_tech_table *def = hw_tech_default();
    const double dnm = def->c[HW_C_REF_NM].value, s = node / dnm;
    json_t *root = json_object(), *entries = json_array();
    json_object_set_new(root, "calibration", json_string(calib_path));
    json_object_set_new(root, "node_nm", json_integer(node));
    json_object_set_new(root, "tools", json_string(cal->tools));
    json_object_set_new(root, "scale_area", td_json_real(sa));
    json_object_set_new(root, "scale_energy", td_json_real(se));
    json_object_set_new(root, "scale_delay", td_json_real(sd));
    json_object_set_new(root, "scaling_source",
                        json_string("Stillmaker & Baas, Integration, the VLSI Journal 58 (2017)"));
    if (!json) {
        printf("calibration %s (%s)\n", calib_path, cal->tools);
        printf("table at %d nm; %d -> %d nm factors (Stillmaker & Baas 2017): area %.4g, energy "
               "%.4g, delay %.4g\n\n",
               node, cal->lib_nm, node, sa, se, sd);
        printf("| entry | calibrated | unit | origin | published (hw_tech.c, at %d nm) | "
               "calibrated / published |\n|---|---|---|---|---|---|\n",
               node);
    }
    for (int id = 1; id < HW_CONST_COUNT; id++) {
        /* from the file's table, or from its fits (the vector unit) */
        bool synth = !isnan(cal->table[id]) || (t.c[id].origin & HW_ORIGIN_SYNTHESIS);
        /* the published value at this node by hw_model's own scaling */
        double pub = def->c[id].value;
        const char *u = def->c[id].unit;
        if (strcmp(u, "pJ") == 0 && id != HW_C_DRAM64_PJ)
            pub *= s;
        else if (strcmp(u, "um^2") == 0)
            pub *= s * s;
        const char *origin =
            synth ? (id == HW_C_LEAK_MW_PER_MM2 ? "synthesis (not scaled)" : "synthesis, scaled")
            : id == HW_C_FMAX_MHZ ? "per bit width (below)"
                                  : "published";
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(def->c[id].name));
        json_object_set_new(e, "value", td_json_real(t.c[id].value));
        json_object_set_new(e, "unit", json_string(u));
        json_object_set_new(e, "origin", json_string(origin));
        json_object_set_new(e, "source", json_string(t.c[id].source));
        json_object_set_new(e, "published", td_json_real(pub));
        if (synth && pub > 0)
            json_object_set_new(e, "ratio", td_json_real(t.c[id].value / pub));
        json_array_append_new(entries, e);
        if (!json) {
            char ratio[32] = "";
            if (synth && pub > 0)
                snprintf(ratio, sizeof ratio, "%.2f", t.c[id].value / pub);
            printf("| %s | %.4g | %s | %s | %.4g | %s |\n", def->c[id].name, t.c[id].value, u,
                   origin, pub, ratio);
        }
    }
    json_object_set_new(root, "table", entries);
    json_t *fm = json_array();
    if (!json)
        printf("\nPE fmax at %d nm (the PE alone, inputs from flip-flops; %d nm delay x %.4g):\n\n"
               "| dataflow | 4 bits | 8 bits | 16 bits | 32 bits |\n|---|---|---|---|---|\n",
               node, cal->lib_nm, sd);
    static const int bits[] = {4, 8, 16, 32};
    for (int df = 0; df < 2; df++) {
        if (!json)
            printf("| %s |", df ? "os" : "ws");
        for (int b = 0; b < 4; b++) {
            double f = NAN;
            if (hw_calib_fmax_mhz(cal, df, bits[b], node, &f) != TD_OK)
                f = NAN;
            json_t *o = json_object();
            json_object_set_new(o, "dataflow", json_string(df ? "os" : "ws"));
            json_object_set_new(o, "bits", json_integer(bits[b]));
            json_object_set_new(o, "fmax_mhz", td_json_real(f));
            json_object_set_new(o, "origin", json_string("synthesis, scaled"));
            json_array_append_new(fm, o);
            if (!json) {
                if (isnan(f))
                    printf(" - |");
                else
                    printf(" %.0f MHz |", f);
            }
        }
        if (!json)
            printf("\n");
    }
    json_object_set_new(root, "fmax", fm);
    if (!json)
        printf("\nScratchpad SRAM, DRAM and command energy stay on the published model (the cell "
               "library has no SRAM); see docs/calibration.md.\n");
    free(cal);
    if (json)
        td_json_print(root);
    else
        json_decref(root);
    return 0;
}

int cmd_calibrate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"lib", required_argument, NULL, OPT_LIB},
        {"liberty", required_argument, NULL, OPT_LIBERTY},
        {"out", required_argument, NULL, 'o'},
        {"quick", no_argument, NULL, OPT_QUICK},
        {"work", required_argument, NULL, OPT_WORK},
        {"src", required_argument, NULL, OPT_SRC},
        {"validate", required_argument, NULL, OPT_VALIDATE},
        {"calib", required_argument, NULL, OPT_CALIB},
        {"report", no_argument, NULL, OPT_REPORT},
        {"only", required_argument, NULL, OPT_ONLY},
        {"skip", required_argument, NULL, OPT_SKIP},
        {"node", required_argument, NULL, OPT_NODE},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    static const char *const cmd = "calibrate";
    cmd_common cc = {0};
    const char *lib = "osu018", *liberty = NULL, *out = NULL, *work = NULL, *src = NULL;
    const char *validate = NULL, *calib = NULL, *only = NULL, *skip = NULL;
    bool quick = false, report = false;
    long long node = HW_CALIB_DEFAULT_NODE_NM;
    int opt;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":o:" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_LIB:
            lib = optarg;
            break;
        case OPT_LIBERTY:
            liberty = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case OPT_QUICK:
            quick = true;
            break;
        case OPT_WORK:
            work = optarg;
            break;
        case OPT_SRC:
            src = optarg;
            break;
        case OPT_VALIDATE:
            validate = optarg;
            break;
        case OPT_CALIB:
            calib = optarg;
            break;
        case OPT_REPORT:
            report = true;
            break;
        case OPT_ONLY:
            only = optarg;
            break;
        case OPT_SKIP:
            skip = optarg;
            break;
        case OPT_NODE:
            if (!cmd_parse_int(cmd, "--node", optarg, 5, 180, &node))
                return 2;
            break;
        default:
            if (!cmd_common_option(&cc, opt))
                return cmd_bad_option(cmd, opt, argv);
        }
    }
    if (cc.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind < argc)
        return cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (validate && (quick || out))
        return cmd_usage_error(cmd, "--validate does not combine with --quick or -o");
    if (strcmp(lib, "osu018") != 0)
        return cmd_usage_error(cmd, "--lib %s: unknown cell library (known: osu018)", lib);
    if (report && (validate || quick || out))
        return cmd_usage_error(cmd, "--report does not combine with --validate, --quick or -o");
    if (report) {
        const char *env = getenv("TANDEM_SOURCE_DIR");
        char def[1200];
        snprintf(def, sizeof def, "%s/hw_model/calibration/osu018.json",
                 src           ? src
                 : env && *env ? env
                               : ".");
        return run_report(cmd, calib ? calib : def, (int)node, cc.json);
    }

    ctx *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    td_status st = ctx_init(c, lib, liberty, work, src);
    if (st != TD_OK) {
        free(c);
        return cmd_fail(cmd, st);
    }
    tool_version("yosys -V", c->yosys_v, sizeof c->yosys_v);
    tool_version("sta -version", c->sta_v, sizeof c->sta_v);
    if (validate) {
        char def[1200];
        snprintf(def, sizeof def, "%s/hw_model/calibration/osu018.json", c->src);
        int rc = run_validate(cmd, c, validate, calib ? calib : def, cc.json);
        free(c);
        return rc;
    }
    if ((st = tool_check("verilator", "verilator")) != TD_OK) {
        free(c);
        return cmd_fail(cmd, st);
    }
    tool_version("verilator --version", c->verilator_v, sizeof c->verilator_v);
    char def_out[1200];
    if (!out) {
        snprintf(def_out, sizeof def_out, "%s/hw_model/calibration/%s.json", c->src, lib);
        out = def_out;
    }
    plan p = {0};
    plan_build(&p, quick);
    if (skip) {
        size_t kept = 0;
        for (size_t i = 0; i < p.n; i++) {
            char buf[512];
            bool match = false;
            snprintf(buf, sizeof buf, "%s", skip);
            for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
                 t = strtok_r(NULL, ",", &save))
                match |= strstr(p.jobs[i].name, t) != NULL;
            if (!match)
                p.jobs[kept++] = p.jobs[i];
        }
        p.n = kept;
    }
    td_log_info("calibrate: %zu components, work folder %s", p.n, c->work);
    st = cells_model(c);
    size_t done = 0;
    for (size_t i = 0; i < p.n && st == TD_OK; i++) {
        if (only) {
            char buf[512];
            bool match = false;
            snprintf(buf, sizeof buf, "%s", only);
            for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
                 t = strtok_r(NULL, ",", &save))
                match |= strstr(p.jobs[i].name, t) != NULL;
            if (!match)
                continue;
        }
        st = job_run(c, &p.jobs[i]);
        done++;
    }
    if (only && st == TD_OK) {
        printf("partial run (--only %s): %zu components in %s; run again without --only and "
               "with the same --work to write the calibration\n",
               only, done, c->work);
        free(p.jobs);
        free(c);
        return 0;
    }
    json_t *root = NULL;
    if (st == TD_OK)
        st = build_output(c, &p, quick, &root);
    if (st == TD_OK) {
        json_object_set_new(root, "work", json_string(c->work));
        st = td_json_write_file(root, out);
    }
    if (st == TD_OK) {
        /* the file must load back */
        hw_calib *cal = malloc(sizeof *cal);
        st = cal ? hw_calib_load(cal, out) : td_fail(TD_ERR_NOMEM, "out of memory");
        free(cal);
    }
    free(p.jobs);
    free(c);
    if (st != TD_OK) {
        json_decref(root);
        return cmd_fail(cmd, st);
    }
    if (cc.json) {
        json_object_set_new(root, "output", json_string(out));
        td_json_print(root);
    } else {
        json_decref(root);
        printf("calibration written to %s\n", out);
    }
    return 0;
}
