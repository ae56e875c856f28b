#include "nn_model.h"

#include "td_hash.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- model object */

td_status nn_model_init_graph(nn_model *m, const nn_graph *g)
{
    memset(m, 0, sizeof *m);
    return nn_graph_copy(&m->graph, g);
}

td_status nn_model_init_net(nn_model *m, const nn_net *net, const nn_norm *norm)
{
    td_status st = nn_model_init_graph(m, &net->g);
    if (st != TD_OK)
        return st;
    m->n_params = net->n_params;
    m->n_stats = net->n_stats;
    m->params = malloc((size_t)(m->n_params + 1) * sizeof *m->params);
    m->stats = malloc((size_t)(m->n_stats + 1) * sizeof *m->stats);
    if (!m->params || !m->stats) {
        nn_model_free(m);
        return td_fail(TD_ERR_NOMEM, "out of memory");
    }
    nn_net_get_weights(net, m->params, m->stats);
    m->norm = *norm;
    m->has_weights = true;
    return TD_OK;
}

td_status nn_model_add_quant(nn_model *m, nn_qmodel *q)
{
    for (int32_t i = 0; i < m->n_quant; i++)
        if (m->quant[i].bits == q->bits) {
            nn_qmodel_free(&m->quant[i]);
            m->quant[i] = *q;
            memset(q, 0, sizeof *q);
            return TD_OK;
        }
    nn_qmodel *p = realloc(m->quant, (size_t)(m->n_quant + 1) * sizeof *p);
    if (!p)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    m->quant = p;
    m->quant[m->n_quant++] = *q;
    memset(q, 0, sizeof *q);
    return TD_OK;
}

const nn_qmodel *nn_model_quant(const nn_model *m, int bits)
{
    for (int32_t i = 0; i < m->n_quant; i++)
        if (m->quant[i].bits == bits)
            return &m->quant[i];
    return NULL;
}

void nn_model_free(nn_model *m)
{
    nn_graph_free(&m->graph);
    free(m->params);
    free(m->stats);
    for (int32_t i = 0; i < m->n_quant; i++)
        nn_qmodel_free(&m->quant[i]);
    free(m->quant);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- writer */

typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
    bool oom;
} wbuf;

static void w_bytes(wbuf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

/* little-endian integers (x86 and every target we build for is little endian; the
 * reader checks the byte order mark in the header) */
static void w_u32(wbuf *b, uint32_t v)
{
    w_bytes(b, &v, 4);
}
static void w_i32(wbuf *b, int32_t v)
{
    w_bytes(b, &v, 4);
}
static void w_i64(wbuf *b, int64_t v)
{
    w_bytes(b, &v, 8);
}
static void w_f64(wbuf *b, double v)
{
    w_bytes(b, &v, 8);
}
static void w_str(wbuf *b, const char *s)
{
    w_u32(b, (uint32_t)strlen(s));
    w_bytes(b, s, strlen(s));
}
static void w_shape(wbuf *b, nn_shape s)
{
    w_i64(b, s.c);
    w_i64(b, s.h);
    w_i64(b, s.w);
}

static int64_t qlayer_kk(const nn_qlayer *l)
{
    if (l->op == NN_QOP_FC)
        return l->in_shape.c * l->in_shape.h * l->in_shape.w;
    return (l->in_shape.c / (l->groups > 0 ? l->groups : 1)) * l->k * l->k;
}

td_status nn_model_save(const nn_model *m, const char *path)
{
    wbuf b = {0};
    w_bytes(&b, NN_MODEL_MAGIC, 8);
    w_u32(&b, NN_MODEL_VERSION);
    w_u32(&b, 0x01020304u); /* byte order mark */
    /* graph */
    const nn_graph *g = &m->graph;
    w_str(&b, g->name);
    w_shape(&b, g->input);
    w_i64(&b, g->classes);
    w_u32(&b, (uint32_t)g->n_nodes);
    for (size_t i = 1; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        w_u32(&b, (uint32_t)n->op);
        w_str(&b, n->name);
        w_i32(&b, n->inputs[0]);
        w_i32(&b, n->inputs[1]);
        w_i32(&b, n->k_h);
        w_i32(&b, n->stride);
        w_i32(&b, n->pad);
        w_i32(&b, n->groups);
        w_i64(&b, n->out_channels);
        w_u32(&b, n->bias ? 1 : 0);
    }
    /* weights */
    w_u32(&b, m->has_weights ? 1 : 0);
    if (m->has_weights) {
        w_i64(&b, m->norm.c);
        w_bytes(&b, m->norm.mean, sizeof(float) * (size_t)m->norm.c);
        w_bytes(&b, m->norm.std, sizeof(float) * (size_t)m->norm.c);
        w_i64(&b, m->n_params);
        w_bytes(&b, m->params, sizeof(float) * (size_t)m->n_params);
        w_i64(&b, m->n_stats);
        w_bytes(&b, m->stats, sizeof(float) * (size_t)m->n_stats);
    }
    /* integer models */
    w_u32(&b, (uint32_t)m->n_quant);
    for (int32_t qi = 0; qi < m->n_quant; qi++) {
        const nn_qmodel *q = &m->quant[qi];
        w_i32(&b, q->bits);
        w_f64(&b, q->s_input);
        w_i32(&b, q->acc_bits);
        w_i32(&b, q->n_layers);
        for (int32_t i = 0; i < q->n_layers; i++) {
            const nn_qlayer *l = &q->layers[i];
            w_u32(&b, (uint32_t)l->op);
            w_str(&b, l->name);
            w_i32(&b, l->node);
            w_i32(&b, l->in[0]);
            w_i32(&b, l->in[1]);
            w_shape(&b, l->in_shape);
            w_shape(&b, l->out_shape);
            w_i32(&b, l->k);
            w_i32(&b, l->stride);
            w_i32(&b, l->pad);
            w_i32(&b, l->groups);
            w_i64(&b, l->out_channels);
            w_f64(&b, l->s_in);
            w_f64(&b, l->s_in2);
            w_f64(&b, l->s_out);
            w_i64(&b, l->lo);
            w_i64(&b, l->hi);
            w_u32(&b, l->mult_a);
            w_u32(&b, l->mult_b);
            w_i32(&b, l->shift);
            if (l->op == NN_QOP_CONV || l->op == NN_QOP_FC) {
                int64_t kk = qlayer_kk(l), oc = l->out_channels;
                w_bytes(&b, l->w, sizeof(int32_t) * (size_t)(oc * kk));
                for (int64_t o = 0; o < oc; o++) {
                    /* bias: 128-bit two's complement as low then high 64-bit word */
                    w_i64(&b, (int64_t)(uint64_t)(unsigned __int128)l->bias[o]);
                    w_i64(&b, (int64_t)(l->bias[o] >> 64));
                    w_f64(&b, l->s_w[o]);
                    w_u32(&b, l->rq[o].mult);
                    w_i32(&b, l->rq[o].shift);
                }
            }
            w_i32(&b, l->n_rq_pool);
            for (int32_t k = 0; k < l->n_rq_pool; k++) {
                w_u32(&b, l->rq_pool[k].mult);
                w_i32(&b, l->rq_pool[k].shift);
            }
        }
    }
    uint64_t h = td_hash64(b.p, b.len, 0x74646d);
    w_bytes(&b, &h, 8);
    if (b.oom) {
        free(b.p);
        return td_fail(TD_ERR_NOMEM, "%s: out of memory while writing the model", path);
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        td_status st = td_fail(TD_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(b.p);
        return st;
    }
    bool ok = fwrite(b.p, 1, b.len, f) == b.len;
    ok = (fclose(f) == 0) && ok;
    free(b.p);
    return ok ? TD_OK : td_fail(TD_ERR_IO, "%s: write failed: %s", path, strerror(errno));
}

/* ---------------------------------------------------------------- reader */

typedef struct rbuf {
    const unsigned char *p;
    size_t len, off;
    const char *path;
    td_status st;
} rbuf;

static bool r_bytes(rbuf *b, void *d, size_t n, const char *what)
{
    if (b->st != TD_OK)
        return false;
    if (n > b->len - b->off) {
        b->st = td_fail(TD_ERR_FORMAT, "%s: truncated at byte %zu while reading %s", b->path,
                        b->len, what);
        return false;
    }
    memcpy(d, b->p + b->off, n);
    b->off += n;
    return true;
}
static uint32_t r_u32(rbuf *b, const char *w)
{
    uint32_t v = 0;
    r_bytes(b, &v, 4, w);
    return v;
}
static int32_t r_i32(rbuf *b, const char *w)
{
    int32_t v = 0;
    r_bytes(b, &v, 4, w);
    return v;
}
static int64_t r_i64(rbuf *b, const char *w)
{
    int64_t v = 0;
    r_bytes(b, &v, 8, w);
    return v;
}
static double r_f64(rbuf *b, const char *w)
{
    double v = 0;
    r_bytes(b, &v, 8, w);
    return v;
}
static void r_str(rbuf *b, char *out, size_t size, const char *what)
{
    uint32_t n = r_u32(b, what);
    out[0] = 0;
    if (b->st != TD_OK)
        return;
    if (n >= size) {
        b->st = td_fail(TD_ERR_FORMAT, "%s: %s of %u bytes at byte %zu is too long (corrupt)",
                        b->path, what, n, b->off);
        return;
    }
    if (r_bytes(b, out, n, what))
        out[n] = 0;
}
static nn_shape r_shape(rbuf *b, const char *w)
{
    nn_shape s;
    s.c = r_i64(b, w);
    s.h = r_i64(b, w);
    s.w = r_i64(b, w);
    return s;
}

static bool corrupt(rbuf *b, const char *fmt, const char *detail)
{
    if (b->st == TD_OK)
        b->st = td_fail(TD_ERR_FORMAT, "%s: inconsistent model: %s %s", b->path, fmt, detail);
    return false;
}

static bool shape_ok(nn_shape s)
{
    return s.c > 0 && s.h > 0 && s.w > 0 && s.c < (1 << 20) && s.h < (1 << 16) && s.w < (1 << 16);
}

static void read_graph(rbuf *b, nn_graph *g)
{
    char name[64];
    r_str(b, name, sizeof name, "the network name");
    nn_shape in = r_shape(b, "the input shape");
    int64_t classes = r_i64(b, "the class count");
    uint32_t n_nodes = r_u32(b, "the node count");
    if (b->st != TD_OK)
        return;
    if (!shape_ok(in) || n_nodes < 1 || n_nodes > 100000) {
        corrupt(b, "graph header of", name);
        return;
    }
    if ((b->st = nn_graph_init(g, name, in, classes)) != TD_OK) {
        td_fail_context(b->st, "%s: ", b->path);
        return;
    }
    for (uint32_t i = 1; i < n_nodes && b->st == TD_OK; i++) {
        char nm[NN_NAME_MAX];
        uint32_t op = r_u32(b, "a layer");
        r_str(b, nm, sizeof nm, "a layer name");
        int32_t in0 = r_i32(b, "a layer"), in1 = r_i32(b, "a layer");
        int32_t k = r_i32(b, "a layer"), stride = r_i32(b, "a layer"), pad = r_i32(b, "a layer"),
                groups = r_i32(b, "a layer");
        int64_t oc = r_i64(b, "a layer");
        bool bias = r_u32(b, "a layer") != 0;
        if (b->st != TD_OK)
            return;
        td_status st;
        switch ((nn_op)op) {
        case NN_OP_CONV:
            st = nn_graph_add_conv(g, NULL, in0, nm, oc, k, stride, pad, groups, bias);
            break;
        case NN_OP_BATCHNORM:
            st = nn_graph_add_batchnorm(g, NULL, in0, nm);
            break;
        case NN_OP_RELU:
        case NN_OP_RELU6:
            st = nn_graph_add_relu(g, NULL, in0, nm, op == NN_OP_RELU6);
            break;
        case NN_OP_MAXPOOL:
        case NN_OP_AVGPOOL:
            st = nn_graph_add_pool(g, NULL, in0, nm, (nn_op)op, k, stride, pad);
            break;
        case NN_OP_GLOBAL_AVGPOOL:
            st = nn_graph_add_global_avgpool(g, NULL, in0, nm);
            break;
        case NN_OP_FC:
            st = nn_graph_add_fc(g, NULL, in0, nm, oc, bias);
            break;
        case NN_OP_ADD:
            st = nn_graph_add_add(g, NULL, in0, in1, nm);
            break;
        default:
            st = td_fail(TD_ERR_FORMAT, "layer %u has unknown op %u", i, op);
            break;
        }
        if (st != TD_OK)
            b->st = td_fail_context(st, "%s: inconsistent model graph: ", b->path);
    }
}

static void read_qmodel(rbuf *b, nn_qmodel *q, const nn_graph *g)
{
    memset(q, 0, sizeof *q);
    q->bits = r_i32(b, "an integer model");
    q->s_input = r_f64(b, "an integer model");
    q->acc_bits = r_i32(b, "an integer model");
    q->n_layers = r_i32(b, "an integer model");
    q->input = g->input;
    q->classes = g->classes;
    if (b->st != TD_OK)
        return;
    if (!nn_bits_valid(q->bits) || q->n_layers < 1 || (size_t)q->n_layers > g->n_nodes) {
        corrupt(b, "integer model header", "");
        q->n_layers = 0;
        return;
    }
    q->layers = calloc((size_t)q->n_layers, sizeof *q->layers);
    if (!q->layers) {
        b->st = td_fail(TD_ERR_NOMEM, "out of memory");
        q->n_layers = 0;
        return;
    }
    for (int32_t i = 0; i < q->n_layers && b->st == TD_OK; i++) {
        nn_qlayer *l = &q->layers[i];
        const char *w = "an integer layer";
        l->op = (nn_qop)r_u32(b, w);
        r_str(b, l->name, sizeof l->name, w);
        l->node = r_i32(b, w);
        l->in[0] = r_i32(b, w);
        l->in[1] = r_i32(b, w);
        l->in_shape = r_shape(b, w);
        l->out_shape = r_shape(b, w);
        l->k = r_i32(b, w);
        l->stride = r_i32(b, w);
        l->pad = r_i32(b, w);
        l->groups = r_i32(b, w);
        l->out_channels = r_i64(b, w);
        l->s_in = r_f64(b, w);
        l->s_in2 = r_f64(b, w);
        l->s_out = r_f64(b, w);
        l->lo = r_i64(b, w);
        l->hi = r_i64(b, w);
        l->mult_a = r_u32(b, w);
        l->mult_b = r_u32(b, w);
        l->shift = r_i32(b, w);
        if (b->st != TD_OK)
            return;
        /* structure checks: inputs earlier, shapes sane, windows and groups consistent */
        bool ok = (int)l->op >= 0 && l->op < NN_QOP_COUNT && l->in[0] >= -1 && l->in[0] < i &&
                  l->in[1] >= -1 && l->in[1] < i && shape_ok(l->in_shape) &&
                  shape_ok(l->out_shape) && l->shift >= 0 && l->shift <= 126 && l->lo <= l->hi;
        if (ok && (l->op == NN_QOP_CONV || l->op == NN_QOP_MAXPOOL || l->op == NN_QOP_AVGPOOL))
            ok = l->k >= 1 && l->k <= 64 && l->stride >= 1 && l->pad >= 0 && l->pad < l->k &&
                 l->out_shape.h == (l->in_shape.h + 2 * l->pad - l->k) / l->stride + 1 &&
                 l->out_shape.w == (l->in_shape.w + 2 * l->pad - l->k) / l->stride + 1;
        if (ok && l->op == NN_QOP_CONV)
            ok = l->groups >= 1 && l->in_shape.c % l->groups == 0 &&
                 l->out_channels == l->out_shape.c && l->out_channels % l->groups == 0;
        if (ok && l->op == NN_QOP_FC)
            ok = l->out_channels == l->out_shape.c && l->out_shape.h == 1 && l->out_shape.w == 1;
        if (ok && (l->op == NN_QOP_ADD || l->op == NN_QOP_RELU || l->op == NN_QOP_MAXPOOL ||
                   l->op == NN_QOP_AVGPOOL))
            ok = l->in_shape.c == l->out_shape.c;
        if (ok) {
            nn_shape src = l->in[0] < 0 ? g->input : q->layers[l->in[0]].out_shape;
            ok = src.c == l->in_shape.c && src.h == l->in_shape.h && src.w == l->in_shape.w;
        }
        if (!ok) {
            char d[96];
            snprintf(d, sizeof d, "%d ('%s')", i, l->name);
            corrupt(b, "integer layer", d);
            return;
        }
        if (l->op == NN_QOP_CONV || l->op == NN_QOP_FC) {
            int64_t kk = qlayer_kk(l), oc = l->out_channels;
            if (oc * kk > (int64_t)(b->len - b->off) / 4) {
                b->st = td_fail(TD_ERR_FORMAT, "%s: truncated at byte %zu while reading %s",
                                b->path, b->len, "integer weights");
                return;
            }
            l->w = malloc((size_t)(oc * kk) * sizeof *l->w);
            l->bias = malloc((size_t)oc * sizeof *l->bias);
            l->s_w = malloc((size_t)oc * sizeof *l->s_w);
            l->rq = malloc((size_t)oc * sizeof *l->rq);
            if (!l->w || !l->bias || !l->s_w || !l->rq) {
                b->st = td_fail(TD_ERR_NOMEM, "out of memory");
                return;
            }
            r_bytes(b, l->w, sizeof(int32_t) * (size_t)(oc * kk), "integer weights");
            for (int64_t o = 0; o < oc; o++) {
                uint64_t lo = (uint64_t)r_i64(b, "integer biases");
                int64_t hi = r_i64(b, "integer biases");
                l->bias[o] = (nn_acc_t)(((unsigned __int128)(uint64_t)hi << 64) | lo);
                l->s_w[o] = r_f64(b, "weight scales");
                l->rq[o].mult = r_u32(b, "requantization");
                l->rq[o].shift = r_i32(b, "requantization");
                if (b->st == TD_OK && (l->rq[o].shift < 1 || l->rq[o].shift > 126)) {
                    corrupt(b, "requantization shift in layer", l->name);
                    return;
                }
            }
        }
        l->n_rq_pool = r_i32(b, "pool requantization");
        if (b->st != TD_OK)
            return;
        int32_t need = l->op == NN_QOP_AVGPOOL ? l->k * l->k : l->op == NN_QOP_GAP ? 1 : 0;
        if (l->n_rq_pool != need) {
            corrupt(b, "pool requantization count in layer", l->name);
            return;
        }
        if (need) {
            l->rq_pool = malloc((size_t)need * sizeof *l->rq_pool);
            if (!l->rq_pool) {
                b->st = td_fail(TD_ERR_NOMEM, "out of memory");
                return;
            }
            for (int32_t k = 0; k < need; k++) {
                l->rq_pool[k].mult = r_u32(b, "pool requantization");
                l->rq_pool[k].shift = r_i32(b, "pool requantization");
                if (b->st == TD_OK && (l->rq_pool[k].shift < 1 || l->rq_pool[k].shift > 126)) {
                    corrupt(b, "pool requantization shift in layer", l->name);
                    return;
                }
            }
        }
    }
    if (b->st == TD_OK) {
        const nn_qlayer *last = &q->layers[q->n_layers - 1];
        if (last->out_shape.c != g->classes)
            corrupt(b, "integer model does not end in the class logits", "");
    }
}

td_status nn_model_load(nn_model *m, const char *path)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f)
        return td_fail(TD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : (size_t)1 << 16;
            unsigned char *p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                return td_fail(TD_ERR_NOMEM, "%s: out of memory", path);
            }
            data = p;
        }
        size_t r = fread(data + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    bool rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(data);
        return td_fail(TD_ERR_IO, "%s: read error", path);
    }
    rbuf b = {data, len, 0, path, TD_OK};
    char magic[8];
    td_status st = TD_OK;
    if (len < 8 || memcmp(data, NN_MODEL_MAGIC, 8) != 0) {
        st = td_fail(TD_ERR_FORMAT,
                     "%s: not a Tandem saved model (bad magic; expected a .tdm "
                     "file written by tandem train)",
                     path);
        goto out;
    }
    r_bytes(&b, magic, 8, "the magic");
    uint32_t version = r_u32(&b, "the version");
    uint32_t bom = r_u32(&b, "the header");
    if (b.st == TD_OK && version != NN_MODEL_VERSION) {
        st = td_fail(TD_ERR_FORMAT,
                     "%s: model format version %u is not supported (this build reads version %d)",
                     path, version, NN_MODEL_VERSION);
        goto out;
    }
    if (b.st == TD_OK && bom != 0x01020304u) {
        st = td_fail(TD_ERR_FORMAT, "%s: written on a machine of other byte order", path);
        goto out;
    }
    if (b.st == TD_OK && len >= 24) {
        uint64_t want, got = td_hash64(data, len - 8, 0x74646d);
        memcpy(&want, data + len - 8, 8);
        if (want != got) {
            /* tell truncation from corruption: parse first, report checksum if it parses */
            b.len = len;
        } else {
            b.len = len - 8;
        }
    }
    read_graph(&b, &m->graph);
    uint32_t has = r_u32(&b, "the weights flag");
    if (b.st == TD_OK && has) {
        m->norm.c = r_i64(&b, "the normalization");
        if (b.st == TD_OK && (m->norm.c < 1 || m->norm.c > NN_DATA_MAX_CHANNELS))
            corrupt(&b, "normalization channel count", "");
        r_bytes(&b, m->norm.mean, sizeof(float) * (size_t)m->norm.c, "the normalization");
        r_bytes(&b, m->norm.std, sizeof(float) * (size_t)m->norm.c, "the normalization");
        m->n_params = r_i64(&b, "the parameter count");
        if (b.st == TD_OK && m->n_params != nn_graph_params(&m->graph))
            corrupt(&b, "parameter count does not match the graph", "");
        if (b.st == TD_OK && m->n_params > (int64_t)(b.len - b.off) / 4)
            b.st = td_fail(TD_ERR_FORMAT, "%s: truncated at byte %zu while reading %s", path, b.len,
                           "the weights");
        if (b.st == TD_OK) {
            m->params = malloc((size_t)(m->n_params + 1) * sizeof *m->params);
            if (!m->params)
                b.st = td_fail(TD_ERR_NOMEM, "out of memory");
        }
        r_bytes(&b, m->params, sizeof(float) * (size_t)m->n_params, "the weights");
        m->n_stats = r_i64(&b, "the statistics count");
        if (b.st == TD_OK && (m->n_stats < 0 || m->n_stats > (int64_t)(b.len - b.off) / 4))
            b.st = td_fail(TD_ERR_FORMAT, "%s: truncated at byte %zu while reading %s", path, b.len,
                           "the batch-norm statistics");
        if (b.st == TD_OK) {
            m->stats = malloc((size_t)(m->n_stats + 1) * sizeof *m->stats);
            if (!m->stats)
                b.st = td_fail(TD_ERR_NOMEM, "out of memory");
        }
        r_bytes(&b, m->stats, sizeof(float) * (size_t)m->n_stats, "the batch-norm statistics");
        m->has_weights = b.st == TD_OK;
    }
    uint32_t nq = r_u32(&b, "the integer model count");
    if (b.st == TD_OK && nq > 8)
        corrupt(&b, "integer model count", "");
    if (b.st == TD_OK && nq) {
        m->quant = calloc(nq, sizeof *m->quant);
        if (!m->quant)
            b.st = td_fail(TD_ERR_NOMEM, "out of memory");
        for (uint32_t i = 0; i < nq && b.st == TD_OK; i++) {
            read_qmodel(&b, &m->quant[i], &m->graph);
            m->n_quant++;
        }
    }
    if (b.st == TD_OK && b.len == len) {
        /* everything parsed but the checksum disagreed, or trailing data */
        b.st = td_fail(TD_ERR_FORMAT, "%s: checksum mismatch: the file is corrupt", path);
    } else if (b.st == TD_OK && b.off != b.len) {
        b.st = td_fail(TD_ERR_FORMAT, "%s: %zu unexpected bytes before the checksum", path,
                       b.len - b.off);
    }
    st = b.st;
out:
    free(data);
    if (st != TD_OK)
        nn_model_free(m);
    return st;
}

/* ---------------------------------------------------------------- network YAML files */

static const char *yaml_str(struct fy_node *map, const char *key)
{
    struct fy_node *n = fy_node_mapping_lookup_by_string(map, key, FY_NT);
    if (!n || !fy_node_is_scalar(n))
        return NULL;
    return fy_node_get_scalar0(n);
}

static td_status yaml_int(struct fy_node *map, const char *key, long long def, long long *out,
                          const char *path, int idx)
{
    const char *s = yaml_str(map, key);
    if (!s) {
        *out = def;
        return TD_OK;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return td_fail(TD_ERR_CONFIG, "%s: layer %d: key '%s': '%s' is not an integer", path, idx,
                       key, s);
    *out = v;
    return TD_OK;
}

static td_status yaml_shape(struct fy_node *root, nn_shape *s, const char *path)
{
    struct fy_node *n = fy_node_mapping_lookup_by_string(root, "input", FY_NT);
    if (!n || !fy_node_is_sequence(n) || fy_node_sequence_item_count(n) != 3)
        return td_fail(TD_ERR_CONFIG, "%s: key 'input' must be a list [channels, height, width]",
                       path);
    int64_t v[3];
    for (int i = 0; i < 3; i++) {
        struct fy_node *it = fy_node_sequence_get_by_index(n, i);
        const char *t = it && fy_node_is_scalar(it) ? fy_node_get_scalar0(it) : NULL;
        char *end;
        v[i] = t ? strtoll(t, &end, 10) : 0;
        if (!t || *end || v[i] <= 0)
            return td_fail(TD_ERR_CONFIG, "%s: key 'input': element %d is not a positive integer",
                           path, i);
    }
    s->c = v[0];
    s->h = v[1];
    s->w = v[2];
    return TD_OK;
}

static td_status yaml_input_ref(const nn_graph *g, const char *name, int32_t *id, const char *path,
                                int idx)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) {
            *id = (int32_t)i;
            return TD_OK;
        }
    return td_fail(TD_ERR_CONFIG, "%s: layer %d: input '%s' is not an earlier layer", path, idx,
                   name);
}

td_status nn_graph_load_yaml(nn_graph *g, const char *path)
{
    memset(g, 0, sizeof *g);
    struct fy_document *doc = fy_document_build_from_file(NULL, path);
    if (!doc)
        return td_fail(TD_ERR_PARSE, "%s: cannot read or parse as YAML", path);
    struct fy_node *root = fy_document_root(doc);
    td_status st = TD_OK;
    if (!root || !fy_node_is_mapping(root)) {
        st = td_fail(TD_ERR_CONFIG,
                     "%s: a network file is a mapping with name, input, classes "
                     "and layers",
                     path);
        goto out;
    }
    nn_shape in;
    if ((st = yaml_shape(root, &in, path)) != TD_OK)
        goto out;
    const char *name = yaml_str(root, "name");
    long long classes;
    if ((st = yaml_int(root, "classes", 10, &classes, path, 0)) != TD_OK)
        goto out;
    if ((st = nn_graph_init(g, name ? name : "net", in, classes)) != TD_OK)
        goto out;
    struct fy_node *layers = fy_node_mapping_lookup_by_string(root, "layers", FY_NT);
    if (!layers || !fy_node_is_sequence(layers) || fy_node_sequence_item_count(layers) < 1) {
        st = td_fail(TD_ERR_CONFIG, "%s: key 'layers' must be a non-empty list", path);
        goto out;
    }
    void *iter = NULL;
    struct fy_node *ln;
    int idx = 0;
    while (st == TD_OK && (ln = fy_node_sequence_iterate(layers, &iter)) != NULL) {
        idx++;
        if (!fy_node_is_mapping(ln)) {
            st = td_fail(TD_ERR_CONFIG, "%s: layer %d is not a mapping", path, idx);
            break;
        }
        const char *op = yaml_str(ln, "op");
        const char *nm = yaml_str(ln, "name");
        int32_t prev = (int32_t)g->n_nodes - 1, a = prev, b = -1;
        struct fy_node *inputs = fy_node_mapping_lookup_by_string(ln, "inputs", FY_NT);
        const char *input = yaml_str(ln, "input");
        if (input)
            st = yaml_input_ref(g, input, &a, path, idx);
        if (st == TD_OK && inputs && fy_node_is_sequence(inputs)) {
            int cnt = fy_node_sequence_item_count(inputs);
            for (int k = 0; k < cnt && k < 2 && st == TD_OK; k++) {
                struct fy_node *it = fy_node_sequence_get_by_index(inputs, k);
                const char *t = it && fy_node_is_scalar(it) ? fy_node_get_scalar0(it) : "";
                st = yaml_input_ref(g, t, k == 0 ? &a : &b, path, idx);
            }
        }
        if (st != TD_OK)
            break;
        long long out_c, k, stride, pad, groups, bias;
        if ((st = yaml_int(ln, "out", 0, &out_c, path, idx)) != TD_OK ||
            (st = yaml_int(ln, "k", 3, &k, path, idx)) != TD_OK ||
            (st = yaml_int(ln, "stride", 1, &stride, path, idx)) != TD_OK ||
            (st = yaml_int(ln, "pad", -1, &pad, path, idx)) != TD_OK ||
            (st = yaml_int(ln, "groups", 1, &groups, path, idx)) != TD_OK)
            break;
        const char *bs = yaml_str(ln, "bias");
        bias = bs && (strcmp(bs, "true") == 0 || strcmp(bs, "1") == 0);
        if (pad < 0)
            pad = k / 2;
        if (!op) {
            st = td_fail(TD_ERR_CONFIG, "%s: layer %d has no 'op'", path, idx);
        } else if (strcmp(op, "conv") == 0) {
            if (out_c <= 0)
                out_c = g->nodes[a].out.c;
            st = nn_graph_add_conv(g, NULL, a, nm, out_c, (int32_t)k, (int32_t)stride, (int32_t)pad,
                                   (int32_t)groups, bias != 0);
        } else if (strcmp(op, "batchnorm") == 0) {
            st = nn_graph_add_batchnorm(g, NULL, a, nm);
        } else if (strcmp(op, "relu") == 0 || strcmp(op, "relu6") == 0) {
            st = nn_graph_add_relu(g, NULL, a, nm, strcmp(op, "relu6") == 0);
        } else if (strcmp(op, "maxpool") == 0 || strcmp(op, "avgpool") == 0) {
            if (!yaml_str(ln, "k"))
                k = 2;
            if (!yaml_str(ln, "stride"))
                stride = k;
            if (!yaml_str(ln, "pad"))
                pad = 0;
            st = nn_graph_add_pool(g, NULL, a, nm,
                                   strcmp(op, "maxpool") == 0 ? NN_OP_MAXPOOL : NN_OP_AVGPOOL,
                                   (int32_t)k, (int32_t)stride, (int32_t)pad);
        } else if (strcmp(op, "global_avgpool") == 0) {
            st = nn_graph_add_global_avgpool(g, NULL, a, nm);
        } else if (strcmp(op, "fc") == 0) {
            if (out_c <= 0)
                out_c = classes;
            if (!bs)
                bias = 1;
            st = nn_graph_add_fc(g, NULL, a, nm, out_c, bias != 0);
        } else if (strcmp(op, "add") == 0) {
            if (b < 0)
                st = td_fail(TD_ERR_CONFIG, "%s: layer %d: add needs 'inputs: [a, b]'", path, idx);
            else
                st = nn_graph_add_add(g, NULL, a, b, nm);
        } else {
            st = td_fail(TD_ERR_CONFIG,
                         "%s: layer %d: op '%s' is not one of conv, batchnorm, relu, relu6, "
                         "maxpool, avgpool, global_avgpool, fc, add",
                         path, idx, op);
        }
        if (st != TD_OK && !strstr(td_error_message(), path))
            td_fail_context(st, "%s: layer %d: ", path, idx);
    }
out:
    fy_document_destroy(doc);
    if (st != TD_OK)
        nn_graph_free(g);
    return st;
}

/* ---------------------------------------------------------------- --net resolution */

td_status nn_net_resolve(const char *arg, nn_model **out)
{
    *out = NULL;
    nn_model *m = calloc(1, sizeof *m);
    if (!m)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    td_status st;
    for (const char *const *p = nn_builtin_names(); *p; p++)
        if (strcmp(*p, arg) == 0) {
            nn_graph g;
            if ((st = nn_builtin_graph(&g, arg)) == TD_OK) {
                st = nn_model_init_graph(m, &g);
                nn_graph_free(&g);
            }
            goto done;
        }
    FILE *f = fopen(arg, "rb");
    if (!f) {
        char list[256] = "";
        for (const char *const *p = nn_builtin_names(); *p; p++) {
            strncat(list, *p, sizeof list - strlen(list) - 1);
            if (p[1])
                strncat(list, ", ", sizeof list - strlen(list) - 1);
        }
        st = td_fail(TD_ERR_CONFIG,
                     "--net '%s' is neither a built-in network (%s) nor a readable file (a "
                     ".tdm model or a network YAML file): %s",
                     arg, list, strerror(errno));
        goto done;
    }
    char head[8] = {0};
    size_t n = fread(head, 1, 8, f);
    fclose(f);
    if (n == 8 && memcmp(head, NN_MODEL_MAGIC, 8) == 0) {
        st = nn_model_load(m, arg);
    } else {
        size_t len = strlen(arg);
        bool tdm = len > 4 && strcmp(arg + len - 4, ".tdm") == 0;
        if (tdm) {
            st = nn_model_load(m, arg); /* reports the bad magic */
        } else {
            nn_graph g;
            if ((st = nn_graph_load_yaml(&g, arg)) == TD_OK) {
                st = nn_model_init_graph(m, &g);
                nn_graph_free(&g);
            }
        }
    }
done:
    if (st != TD_OK) {
        nn_model_free(m);
        free(m);
        return st;
    }
    *out = m;
    return TD_OK;
}

/* ---------------------------------------------------------------- JSON */

static json_t *shape_json(nn_shape s)
{
    return json_pack("[III]", (json_int_t)s.c, (json_int_t)s.h, (json_int_t)s.w);
}

json_t *nn_graph_to_json(const nn_graph *g)
{
    char hex[17];
    td_hash_hex(nn_graph_hash(g), hex);
    json_t *o = json_object();
    json_object_set_new(o, "net", json_string(g->name));
    json_object_set_new(o, "net_hash", json_string(hex));
    json_object_set_new(o, "input", shape_json(g->input));
    json_object_set_new(o, "classes", json_integer(g->classes));
    json_object_set_new(o, "params", json_integer(nn_graph_params(g)));
    json_object_set_new(o, "macs", json_integer(nn_graph_macs(g)));
    json_t *layers = json_array();
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        json_t *l = json_object();
        json_object_set_new(l, "name", json_string(n->name));
        json_object_set_new(l, "op", json_string(nn_op_name(n->op)));
        json_t *ins = json_array();
        for (int k = 0; k < n->n_inputs; k++)
            json_array_append_new(ins, json_integer(n->inputs[k]));
        json_object_set_new(l, "inputs", ins);
        if (n->op == NN_OP_CONV || n->op == NN_OP_MAXPOOL || n->op == NN_OP_AVGPOOL) {
            json_object_set_new(l, "kernel", json_integer(n->k_h));
            json_object_set_new(l, "stride", json_integer(n->stride));
            json_object_set_new(l, "pad", json_integer(n->pad));
        }
        if (n->op == NN_OP_CONV)
            json_object_set_new(l, "groups", json_integer(n->groups));
        json_object_set_new(l, "input", shape_json(n->in));
        json_object_set_new(l, "output", shape_json(n->out));
        json_object_set_new(l, "macs", json_integer(n->macs));
        json_object_set_new(l, "params", json_integer(n->params));
        json_array_append_new(layers, l);
    }
    json_object_set_new(o, "layers", layers);
    return o;
}
