#include "nn_space.h"

#include "nn_quant.h"
#include "nn_train.h"
#include "td_hash.h"
#include "td_progress.h"

#include <stdio.h>
#include <string.h>

static const char *const block_names[NN_BLOCK_COUNT] = {
    [NN_BLOCK_CONV3] = "conv3x3",     [NN_BLOCK_CONV5] = "conv5x5",
    [NN_BLOCK_DWSEP3] = "dwsep3x3",   [NN_BLOCK_DWSEP5] = "dwsep5x5",
    [NN_BLOCK_MBCONV3] = "mbconv3x3", [NN_BLOCK_MBCONV5] = "mbconv5x5",
    [NN_BLOCK_SKIP] = "skip",
};

const char *nn_block_op_name(nn_block_op op)
{
    return (int)op >= 0 && op < NN_BLOCK_COUNT ? block_names[op] : "?";
}

void nn_space_default(nn_space *s)
{
    memset(s, 0, sizeof *s);
    s->stages_min = 2;
    s->stages_max = 3;
    s->depth_min = 1;
    s->depth_max = 3;
    s->channels_min = 16;
    s->channels_max = 64;
    s->stem_min = 8;
    s->stem_max = 32;
    for (int i = 0; i < NN_BLOCK_COUNT; i++)
        s->ops[i] = (nn_block_op)i;
    s->n_ops = NN_BLOCK_COUNT;
    s->expansions[0] = 1;
    s->expansions[1] = 3;
    s->expansions[2] = 6;
    s->n_expansions = 3;
    s->residual = true;
    s->input = (nn_shape){1, 28, 28};
    s->classes = 10;
}

static td_status range_key(const td_config *cfg, const char *key, int32_t *lo, int32_t *hi)
{
    int64_t a = td_config_list_int(cfg, key, 0), b = td_config_list_int(cfg, key, 1);
    if (a > b)
        return td_fail(TD_ERR_CONFIG, "key '%s' (%s): [min, max] = [%lld, %lld] has min > max", key,
                       td_config_origin(cfg, key), (long long)a, (long long)b);
    *lo = (int32_t)a;
    *hi = (int32_t)b;
    return TD_OK;
}

td_status nn_space_from_config(nn_space *s, const td_config *cfg, nn_shape input, int64_t classes)
{
    nn_space_default(s);
    s->input = input;
    s->classes = classes;
    td_status st;
    if ((st = range_key(cfg, "space.net.stages", &s->stages_min, &s->stages_max)) != TD_OK ||
        (st = range_key(cfg, "space.net.depth", &s->depth_min, &s->depth_max)) != TD_OK ||
        (st = range_key(cfg, "space.net.channels", &s->channels_min, &s->channels_max)) != TD_OK ||
        (st = range_key(cfg, "space.net.stem_channels", &s->stem_min, &s->stem_max)) != TD_OK)
        return st;
    if (s->stages_max > NN_SPACE_MAX_STAGES || s->depth_max > NN_SPACE_MAX_DEPTH)
        return td_fail(TD_ERR_CONFIG, "space.net: at most %d stages of %d blocks",
                       NN_SPACE_MAX_STAGES, NN_SPACE_MAX_DEPTH);
    s->n_ops = 0;
    size_t n = td_config_list_len(cfg, "space.net.ops");
    for (size_t i = 0; i < n; i++) {
        const char *name = td_config_list_str(cfg, "space.net.ops", i);
        for (int k = 0; k < NN_BLOCK_COUNT; k++)
            if (strcmp(name, block_names[k]) == 0) {
                bool dup = false;
                for (int j = 0; j < s->n_ops; j++)
                    dup = dup || s->ops[j] == (nn_block_op)k;
                if (!dup)
                    s->ops[s->n_ops++] = (nn_block_op)k;
            }
    }
    if (s->n_ops == 0)
        return td_fail(TD_ERR_CONFIG, "key 'space.net.ops' (%s): needs at least one op",
                       td_config_origin(cfg, "space.net.ops"));
    s->n_expansions = 0;
    n = td_config_list_len(cfg, "space.net.expansions");
    for (size_t i = 0; i < n && s->n_expansions < 3; i++)
        s->expansions[s->n_expansions++] =
            (int32_t)td_config_list_int(cfg, "space.net.expansions", i);
    if (s->n_expansions == 0)
        return td_fail(TD_ERR_CONFIG, "key 'space.net.expansions': needs at least one ratio");
    s->residual = td_config_bool(cfg, "space.net.residual");
    return TD_OK;
}

int32_t nn_genome_length(const nn_space *s)
{
    return 2 + 3 * s->stages_max + 3 * s->stages_max * s->depth_max;
}

static int32_t levels(int32_t min, int32_t max)
{
    int32_t n = max - min + 1;
    return n < NN_SPACE_CHANNEL_LEVELS ? n : NN_SPACE_CHANNEL_LEVELS;
}

int32_t nn_space_channels(int32_t min, int32_t max, int32_t level)
{
    int32_t L = levels(min, max);
    if (level < 0)
        level = 0;
    if (level >= L)
        level = L - 1;
    if (L <= 1)
        return min;
    int32_t v = min + (int32_t)((int64_t)(max - min) * level / (L - 1));
    int32_t r = v - v % 4;
    return r >= min ? r : v;
}

void nn_genome_ranges(const nn_space *s, int32_t *lo, int32_t *hi)
{
    int32_t n = nn_genome_length(s);
    for (int32_t i = 0; i < n; i++)
        lo[i] = 0;
    int32_t k = 0;
    hi[k++] = levels(s->stem_min, s->stem_max) - 1;
    hi[k++] = s->stages_max - s->stages_min;
    for (int32_t st = 0; st < s->stages_max; st++) {
        hi[k++] = s->depth_max - s->depth_min;
        hi[k++] = levels(s->channels_min, s->channels_max) - 1;
        hi[k++] = 1;
    }
    for (int32_t b = 0; b < s->stages_max * s->depth_max; b++) {
        hi[k++] = s->n_ops - 1;
        hi[k++] = s->n_expansions - 1;
        hi[k++] = 1;
    }
}

void nn_genome_random(const nn_space *s, td_rng *rng, int32_t *genes)
{
    int32_t n = nn_genome_length(s);
    int32_t lo[2048], hi[2048];
    nn_genome_ranges(s, lo, hi);
    for (int32_t i = 0; i < n; i++)
        genes[i] = (int32_t)td_rng_range(rng, lo[i], hi[i]);
}

static int32_t gene(const int32_t *g, int32_t i, int32_t hi)
{
    int32_t v = g[i];
    return v < 0 ? 0 : v > hi ? hi : v;
}

/* conv + bn + activation (act: NN_OP_RELU, NN_OP_RELU6 or NN_OP_INPUT for none) */
static td_status cba(nn_graph *g, int32_t *x, const char *prefix, const char *what, int64_t c,
                     int32_t k, int32_t stride, int32_t groups, nn_op act)
{
    char a[NN_NAME_MAX], b[NN_NAME_MAX], r[NN_NAME_MAX];
    snprintf(a, sizeof a, "%s.%s", prefix, what);
    snprintf(b, sizeof b, "%s.%s.bn", prefix, what);
    snprintf(r, sizeof r, "%s.%s.%s", prefix, what, act == NN_OP_RELU6 ? "relu6" : "relu");
    td_status st = nn_graph_add_conv(g, x, *x, a, c, k, stride, k / 2, groups, false);
    if (st == TD_OK)
        st = nn_graph_add_batchnorm(g, x, *x, b);
    if (st == TD_OK && act != NN_OP_INPUT)
        st = nn_graph_add_relu(g, x, *x, r, act == NN_OP_RELU6);
    return st;
}

td_status nn_genome_decode(const nn_space *s, const int32_t *genes, nn_graph *g)
{
    int32_t n = nn_genome_length(s);
    if (n > 2048)
        return td_fail(TD_ERR_CONFIG, "search space too large: %d genes", n);
    int32_t lo[2048], hi[2048];
    nn_genome_ranges(s, lo, hi);
    td_status st = nn_graph_init(g, "net", s->input, s->classes);
    if (st != TD_OK)
        return st;
    int32_t x = 0;
    int32_t k = 0;
    int64_t stem = nn_space_channels(s->stem_min, s->stem_max, gene(genes, k, hi[k]));
    k++;
    int32_t stages = s->stages_min + gene(genes, k, hi[k]);
    k++;
    if ((st = cba(g, &x, "stem", "conv", stem, 3, 1, 1, NN_OP_RELU)) != TD_OK)
        goto fail;
    /* the stem halves inputs of 16x16 and more (28x28 -> 14x14): keeps proxy training of a
     * typical network in seconds on a CPU */
    if (s->input.h >= 16 && s->input.w >= 16 &&
        (st = nn_graph_add_pool(g, &x, x, "stem.pool", NN_OP_MAXPOOL, 2, 2, 0)) != TD_OK)
        goto fail;
    nn_block_op fallback = NN_BLOCK_CONV3;
    for (int32_t i = 0; i < s->n_ops; i++)
        if (s->ops[i] != NN_BLOCK_SKIP) {
            fallback = s->ops[i];
            break;
        }
    int32_t block_base = 2 + 3 * s->stages_max;
    for (int32_t sg = 0; sg < stages && st == TD_OK; sg++) {
        int32_t gs = 2 + 3 * sg;
        int32_t depth = s->depth_min + gene(genes, gs, hi[gs]);
        int64_t ch =
            nn_space_channels(s->channels_min, s->channels_max, gene(genes, gs + 1, hi[gs + 1]));
        bool down = gene(genes, gs + 2, 1) == 1;
        for (int32_t b = 0; b < depth && st == TD_OK; b++) {
            int32_t gb = block_base + 3 * (sg * s->depth_max + b);
            nn_block_op op = s->ops[gene(genes, gb, hi[gb])];
            int32_t e = s->expansions[gene(genes, gb + 1, hi[gb + 1])];
            bool res = s->residual && gene(genes, gb + 2, 1) == 1;
            nn_shape in = g->nodes[x].out;
            int32_t stride = (b == 0 && down && in.h >= 4 && in.w >= 4) ? 2 : 1;
            int64_t cout = b == 0 ? ch : in.c;
            bool same = stride == 1 && cout == in.c;
            if (op == NN_BLOCK_SKIP && !same)
                op = fallback; /* repair: a skip cannot change the shape */
            if (op == NN_BLOCK_SKIP)
                continue;
            char p[NN_NAME_MAX];
            snprintf(p, sizeof p, "s%d.b%d", sg + 1, b + 1);
            int32_t start = x;
            int32_t kk =
                (op == NN_BLOCK_CONV5 || op == NN_BLOCK_DWSEP5 || op == NN_BLOCK_MBCONV5) ? 5 : 3;
            if (kk == 5 && (in.h < 3 || in.w < 3))
                kk = 3; /* repair: a 5x5 window must fit the 2-padded map */
            switch (op) {
            case NN_BLOCK_CONV3:
            case NN_BLOCK_CONV5:
                st = cba(g, &x, p, "conv", cout, kk, stride, 1, NN_OP_RELU);
                break;
            case NN_BLOCK_DWSEP3:
            case NN_BLOCK_DWSEP5:
                st = cba(g, &x, p, "dw", in.c, kk, stride, (int32_t)in.c, NN_OP_RELU);
                if (st == TD_OK)
                    st = cba(g, &x, p, "pw", cout, 1, 1, 1, NN_OP_RELU);
                break;
            case NN_BLOCK_MBCONV3:
            case NN_BLOCK_MBCONV5: {
                int64_t mid = in.c * e;
                if (e > 1)
                    st = cba(g, &x, p, "exp", mid, 1, 1, 1, NN_OP_RELU6);
                if (st == TD_OK)
                    st = cba(g, &x, p, "dw", mid, kk, stride, (int32_t)mid, NN_OP_RELU6);
                if (st == TD_OK)
                    st = cba(g, &x, p, "proj", cout, 1, 1, 1, NN_OP_INPUT);
                break;
            }
            case NN_BLOCK_SKIP:
            case NN_BLOCK_COUNT:
                break;
            }
            if (st == TD_OK && res && same) {
                char a[NN_NAME_MAX];
                snprintf(a, sizeof a, "%s.add", p);
                st = nn_graph_add_add(g, &x, x, start, a);
            }
        }
    }
    if (st == TD_OK)
        st = nn_graph_add_global_avgpool(g, &x, x, "head.gap");
    if (st == TD_OK)
        st = nn_graph_add_fc(g, &x, x, "head.fc", s->classes, true);
    if (st != TD_OK)
        goto fail;
    char hex[17];
    td_hash_hex(nn_graph_hash(g), hex);
    snprintf(g->name, sizeof g->name, "net-%s", hex);
    return TD_OK;
fail:
    nn_graph_free(g);
    return td_fail_context(st, "decoding a net genome: ");
}

td_status nn_proxy_evaluate(const nn_graph *g, const nn_data *data, const nn_budget *b, int bits,
                            uint64_t seed, int threads, nn_proxy_result *out)
{
    memset(out, 0, sizeof *out);
    if (!nn_bits_valid(bits))
        return td_fail(TD_ERR_CONFIG, "bit width %d is not one of 4, 8, 16, 32", bits);
    if (b->epochs < 1 || b->batch < 1 || b->images < 1)
        return td_fail(TD_ERR_CONFIG,
                       "proxy budget: images %lld, epochs %d, batch %d must all be >= 1",
                       (long long)b->images, b->epochs, b->batch);
    double t0 = td_now_s();
    nn_recipe r;
    nn_recipe_default(&r);
    r.epochs = b->epochs;
    r.batch = b->batch;
    r.images = b->images;
    r.augment = (nn_augment){0, false};
    r.seed = seed;
    r.threads = threads;
    nn_net net;
    td_status st = nn_net_init(&net, g, b->batch, threads, nn_backend_cpu(), seed);
    if (st != TD_OK)
        return st;
    nn_train_result tr;
    st = nn_net_train(&net, &data->train, NULL, &data->norm, &r, NULL, NULL, &tr);
    out->train_s = td_now_s() - t0;
    int64_t nval = b->val_images > 0 ? b->val_images : 2000;
    if (st == TD_OK)
        st = nn_net_evaluate(&net, &data->val, &data->norm, nval, &out->val_accuracy);
    nn_qmodel q;
    if (st == TD_OK &&
        (st = nn_quantize(&q, &net, &data->train, &data->norm, 256, bits)) == TD_OK) {
        st = nn_qmodel_evaluate(&q, &data->val, &data->norm, nval, true, threads,
                                &out->int_val_accuracy);
        nn_qmodel_free(&q);
    }
    out->params = nn_graph_params(g);
    out->macs = nn_graph_macs(g);
    out->wall_s = td_now_s() - t0;
    nn_net_free(&net);
    if (st != TD_OK)
        td_fail_context(st, "proxy evaluation of '%s': ", g->name);
    return st;
}
