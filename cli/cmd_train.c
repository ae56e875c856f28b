/* tandem train: train a network on Fashion-MNIST (or MNIST-format IDX files), report float
 * and integer-reference accuracies, and save the model (.tdm). */
#include "cmd_common.h"
#include "commands.h"
#include "nn_model.h"
#include "nn_quant.h"
#include "nn_train.h"
#include "td_log.h"
#include "td_progress.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tandem train --net NET [-o MODEL.tdm] [--epochs N] [--seed S] [--json] [...]\n"
    "\n"
    "Trains NET with the default recipe (docs/training.md), evaluates the float model and\n"
    "the integer reference (docs/quantization.md) on the test set, and saves the model.\n"
    "\n"
    "  --net NET            built-in network (ref-cnn), network YAML file, or saved .tdm\n"
    "                       model (training continues from its weights)\n"
    "  -o, --output FILE    write the trained model (.tdm, docs/formats.md)\n"
    "  --epochs N           epochs (default 10; 0 with a .tdm model: evaluate/quantize only)\n"
    "  --train-images N     training images per epoch (default: all 55000 of the split)\n"
    "  --val-images N       validation images carved from the training file (default 5000)\n"
    "  --batch B            batch size (default 128)\n"
    "  --lr LR              peak learning rate (default 0.05)\n"
    "  --optimizer O        sgd (Nesterov momentum 0.9) or adamw (default sgd)\n"
    "  --weight-decay WD    (default 5e-4)\n"
    "  --warmup E           warm-up epochs before the cosine schedule (default 0.3)\n"
    "  --augment A          none, flip, crop or flip+crop (default flip)\n"
    "  --bits LIST          integer bit widths to report, e.g. 8 or 4,8,16 (8 is always\n"
    "                       reported as int8_accuracy)\n"
    "  --calib-images N     training images for activation calibration (default 512)\n"
    "  --threads T          CPU threads (default 2)\n"
    "  --seed S             seed of the split, initialization and shuffling (default 1)\n"
    "  --device D           cpu or cuda (cuda falls back to cpu where it is not built)\n"
    "  --data DIR           folder of MNIST-format IDX files (default: Fashion-MNIST)\n"
    "  --test-images N      test images to evaluate (default: all 10000)\n"
    "  --qat-epochs N       after training, fine-tune N epochs with 4-bit quantization-aware\n"
    "                       training (lr / 10) and report int4_qat_accuracy; the saved 4-bit\n"
    "                       integer model is then the fine-tuned one (default 0: off)\n"
    "  --json               print one JSON object on stdout\n"
    "  -v, --verbose / -q, --quiet\n";

enum {
    OPT_NET = CMD_OPT_COMMON_COUNT,
    OPT_EPOCHS,
    OPT_TRAIN_IMAGES,
    OPT_VAL_IMAGES,
    OPT_BATCH,
    OPT_LR,
    OPT_OPTIMIZER,
    OPT_WD,
    OPT_WARMUP,
    OPT_AUGMENT,
    OPT_BITS,
    OPT_CALIB,
    OPT_THREADS,
    OPT_SEED,
    OPT_DEVICE,
    OPT_DATA,
    OPT_TEST_IMAGES,
    OPT_QAT_EPOCHS,
};

typedef struct train_ctx {
    json_t *history;
    int32_t epochs;
} train_ctx;

static void on_epoch(void *p, const nn_epoch_stats *s)
{
    train_ctx *c = p;
    td_log_info("epoch %d/%d: loss %.4f, train accuracy %.4f, val accuracy %.4f, %.0f images/s, "
                "%.1f s",
                s->epoch, c->epochs, s->train_loss, s->train_accuracy, s->val_accuracy,
                s->images_per_s, s->wall_s);
    json_t *e = json_object();
    json_object_set_new(e, "epoch", json_integer(s->epoch));
    json_object_set_new(e, "train_loss", td_json_real(s->train_loss));
    json_object_set_new(e, "train_accuracy", td_json_real(s->train_accuracy));
    json_object_set_new(e, "val_accuracy", td_json_real(s->val_accuracy));
    json_object_set_new(e, "images_per_s", td_json_real(s->images_per_s));
    json_object_set_new(e, "wall_s", td_json_real(s->wall_s));
    json_array_append_new(c->history, e);
}

static int parse_bits(const char *text, int *bits, int *n)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    *n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *end;
        long b = strtol(tok, &end, 10);
        if (*end || !nn_bits_valid((int)b) || *n >= 4)
            return cmd_usage_error("train", "--bits '%s': each width must be 4, 8, 16 or 32", text);
        bits[(*n)++] = (int)b;
    }
    if (*n == 0)
        return cmd_usage_error("train", "--bits needs at least one width");
    return 0;
}

int cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"net", required_argument, NULL, OPT_NET},
        {"output", required_argument, NULL, 'o'},
        {"epochs", required_argument, NULL, OPT_EPOCHS},
        {"train-images", required_argument, NULL, OPT_TRAIN_IMAGES},
        {"val-images", required_argument, NULL, OPT_VAL_IMAGES},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"lr", required_argument, NULL, OPT_LR},
        {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
        {"weight-decay", required_argument, NULL, OPT_WD},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"augment", required_argument, NULL, OPT_AUGMENT},
        {"bits", required_argument, NULL, OPT_BITS},
        {"calib-images", required_argument, NULL, OPT_CALIB},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"data", required_argument, NULL, OPT_DATA},
        {"test-images", required_argument, NULL, OPT_TEST_IMAGES},
        {"qat-epochs", required_argument, NULL, OPT_QAT_EPOCHS},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    const char *net_arg = NULL, *out_path = NULL, *data_dir = NULL, *device = "cpu";
    nn_recipe r;
    nn_recipe_default(&r);
    long long v, val_images = 5000, calib = 512, test_images = 0, qat_epochs = 0;
    double d;
    int bits[5] = {8}, n_bits = 1;
    int opt;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":o:" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_NET:
            net_arg = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case OPT_EPOCHS:
            if (!cmd_parse_int("train", "--epochs", optarg, 0, 1000, &v))
                return 2;
            r.epochs = (int32_t)v;
            break;
        case OPT_TRAIN_IMAGES:
            if (!cmd_parse_int("train", "--train-images", optarg, 1, 100000000, &v))
                return 2;
            r.images = v;
            break;
        case OPT_VAL_IMAGES:
            if (!cmd_parse_int("train", "--val-images", optarg, 1, 59999, &val_images))
                return 2;
            break;
        case OPT_BATCH:
            if (!cmd_parse_int("train", "--batch", optarg, 1, 4096, &v))
                return 2;
            r.batch = v;
            break;
        case OPT_LR:
            if (!cmd_parse_double("train", "--lr", optarg, 1e-7, 10, &r.lr))
                return 2;
            break;
        case OPT_OPTIMIZER:
            if (strcmp(optarg, "sgd") == 0)
                r.optimizer = NN_OPT_SGD;
            else if (strcmp(optarg, "adamw") == 0)
                r.optimizer = NN_OPT_ADAMW;
            else
                return cmd_usage_error("train", "--optimizer '%s' is not sgd or adamw", optarg);
            break;
        case OPT_WD:
            if (!cmd_parse_double("train", "--weight-decay", optarg, 0, 1, &r.weight_decay))
                return 2;
            break;
        case OPT_WARMUP:
            if (!cmd_parse_double("train", "--warmup", optarg, 0, 1000, &d))
                return 2;
            r.warmup_epochs = d;
            break;
        case OPT_AUGMENT:
            if (strcmp(optarg, "none") == 0)
                r.augment = (nn_augment){0, false};
            else if (strcmp(optarg, "flip") == 0)
                r.augment = (nn_augment){0, true};
            else if (strcmp(optarg, "crop") == 0)
                r.augment = (nn_augment){2, false};
            else if (strcmp(optarg, "flip+crop") == 0)
                r.augment = (nn_augment){2, true};
            else
                return cmd_usage_error(
                    "train", "--augment '%s' is not none, flip, crop or flip+crop", optarg);
            break;
        case OPT_BITS: {
            int rc = parse_bits(optarg, bits + 1, &n_bits);
            if (rc)
                return rc;
            n_bits++; /* bits[0] = 8 always */
            break;
        }
        case OPT_CALIB:
            if (!cmd_parse_int("train", "--calib-images", optarg, 1, 60000, &calib))
                return 2;
            break;
        case OPT_THREADS:
            if (!cmd_parse_int("train", "--threads", optarg, 1, 256, &v))
                return 2;
            r.threads = (int)v;
            break;
        case OPT_SEED:
            if (!cmd_parse_int("train", "--seed", optarg, 0, (long long)1 << 62, &v))
                return 2;
            r.seed = (uint64_t)v;
            break;
        case OPT_DEVICE:
            device = optarg;
            break;
        case OPT_DATA:
            data_dir = optarg;
            break;
        case OPT_TEST_IMAGES:
            if (!cmd_parse_int("train", "--test-images", optarg, 1, 100000000, &test_images))
                return 2;
            break;
        case OPT_QAT_EPOCHS:
            if (!cmd_parse_int("train", "--qat-epochs", optarg, 0, 1000, &qat_epochs))
                return 2;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                return cmd_bad_option("train", opt, argv);
        }
    }
    if (c.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind < argc)
        return cmd_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!net_arg)
        return cmd_usage_error("train", "--net is required");

    nn_device dev;
    td_status st = nn_device_parse(device, &dev);
    if (st != TD_OK)
        return cmd_usage_error("train", "--device: %s", td_error_message());
    const nn_backend *be;
    if ((st = nn_backend_get(dev, &be)) != TD_OK) {
        td_log_warn("%s; falling back to the CPU backend", td_error_message());
        be = nn_backend_cpu();
        device = "cpu";
    }

    nn_model *model = NULL;
    if ((st = nn_net_resolve(net_arg, &model)) != TD_OK)
        return cmd_fail("train", st);
    if (r.epochs == 0 && !model->has_weights) {
        nn_model_free(model);
        free(model);
        return cmd_usage_error("train", "--epochs 0 needs a trained model (a .tdm file) as --net");
    }
    nn_data data;
    td_log_info("loading data from %s", data_dir && *data_dir ? data_dir : NN_FASHION_MNIST_DIR);
    if ((st = nn_data_load(&data, data_dir, val_images, r.seed)) != TD_OK) {
        nn_model_free(model);
        free(model);
        return cmd_fail("train", st);
    }
    if (model->has_weights)
        data.norm = model->norm; /* the normalization the weights were trained with */
    nn_net net;
    int rc = 0;
    json_t *out = NULL;
    train_ctx ctx = {json_array(), r.epochs};
    if ((st = nn_net_init(&net, &model->graph, r.batch, r.threads, be, r.seed)) != TD_OK)
        goto fail_data;
    if (model->has_weights && (st = nn_net_set_weights(&net, model->params, model->n_params,
                                                       model->stats, model->n_stats)) != TD_OK)
        goto fail_net;
    td_log_info("training %s (%lld params, %lld MACs) for %d epochs on %lld images, batch %lld, "
                "%d threads, %s",
                net.g.name, (long long)nn_graph_params(&net.g), (long long)nn_graph_macs(&net.g),
                r.epochs,
                (long long)(r.images > 0 && r.images < data.train.n ? r.images : data.train.n),
                (long long)r.batch, r.threads, device);
    nn_train_result res = {0};
    if (r.epochs > 0 && (st = nn_net_train(&net, &data.train, &data.val, &data.norm, &r, on_epoch,
                                           &ctx, &res)) != TD_OK)
        goto fail_net;
    double test_acc;
    double t_eval = td_now_s();
    if ((st = nn_net_evaluate(&net, &data.test, &data.norm, test_images, &test_acc)) != TD_OK)
        goto fail_net;
    nn_model saved;
    if ((st = nn_model_init_net(&saved, &net, &data.norm)) != TD_OK)
        goto fail_net;
    out = json_object();
    json_object_set_new(out, "net", json_string(net.g.name));
    json_object_set_new(out, "device", json_string(device));
    json_object_set_new(out, "epochs", json_integer(r.epochs));
    json_object_set_new(out, "train_images",
                        json_integer(r.epochs ? res.images_seen / r.epochs : 0));
    json_object_set_new(out, "val_images", json_integer(data.val.n));
    json_object_set_new(
        out, "test_images",
        json_integer(test_images > 0 && test_images < data.test.n ? test_images : data.test.n));
    json_object_set_new(out, "batch", json_integer(r.batch));
    json_object_set_new(out, "threads", json_integer(r.threads));
    json_object_set_new(out, "seed", json_integer((json_int_t)r.seed));
    json_object_set_new(out, "params", json_integer(nn_graph_params(&net.g)));
    json_object_set_new(out, "macs", json_integer(nn_graph_macs(&net.g)));
    json_object_set_new(out, "train_loss", td_json_real(res.final_loss));
    json_object_set_new(out, "train_accuracy", td_json_real(res.train_accuracy));
    json_object_set_new(out, "val_accuracy", td_json_real(res.val_accuracy));
    json_object_set_new(out, "test_accuracy", td_json_real(test_acc));
    json_object_set_new(out, "images_per_s", td_json_real(res.images_per_s));
    json_object_set_new(out, "train_wall_s", td_json_real(res.wall_s));
    json_t *ints = json_object();
    for (int i = 0; i < n_bits; i++) {
        if (i > 0 && bits[i] == 8)
            continue;
        bool dup = false;
        for (int j = 1; j < i; j++)
            dup = dup || bits[j] == bits[i];
        if (dup)
            continue;
        nn_qmodel q;
        if ((st = nn_quantize(&q, &net, &data.train, &data.norm, calib, bits[i])) != TD_OK)
            goto fail_saved;
        double acc;
        if ((st = nn_qmodel_evaluate(&q, &data.test, &data.norm, test_images, true, r.threads,
                                     &acc)) != TD_OK) {
            nn_qmodel_free(&q);
            goto fail_saved;
        }
        char key[32];
        snprintf(key, sizeof key, "int%d_accuracy", bits[i]);
        json_object_set_new(out, key, td_json_real(acc));
        snprintf(key, sizeof key, "%d", bits[i]);
        json_object_set_new(ints, key, td_json_real(acc));
        td_log_info("int%d reference accuracy %.4f (float %.4f, accumulator %d bits)", bits[i], acc,
                    test_acc, q.acc_bits);
        if ((st = nn_model_add_quant(&saved, &q)) != TD_OK) {
            nn_qmodel_free(&q);
            goto fail_saved;
        }
    }
    if (qat_epochs > 0) {
        nn_recipe rq = r;
        rq.epochs = (int32_t)qat_epochs;
        rq.lr = r.lr / 10;
        rq.warmup_epochs = 0;
        td_log_info("quantization-aware fine-tuning at 4 bits for %lld epochs", qat_epochs);
        ctx.epochs = rq.epochs;
        nn_train_result rres;
        if ((st = nn_net_set_qat(&net, 4)) == TD_OK)
            net.qat_calib_images = calib; /* the same images as the integer model's */
        /* the fake-quantized float model, calibrated on the final weights, on the test
         * images the integer model is scored on: the two should agree (quantization.md) */
        double fake_acc = 0;
        if (st != TD_OK ||
            (st = nn_net_train(&net, &data.train, &data.val, &data.norm, &rq, on_epoch, &ctx,
                               &rres)) != TD_OK ||
            (st = nn_net_qat_calibrate(&net, &data.train, &data.norm, calib)) != TD_OK ||
            (st = nn_net_evaluate(&net, &data.test, &data.norm, test_images, &fake_acc)) !=
                TD_OK ||
            (st = nn_net_set_qat(&net, 0)) != TD_OK)
            goto fail_saved;
        json_object_set_new(out, "int4_qat_fake_accuracy", td_json_real(fake_acc));
        td_log_info("fake-quantized 4-bit float model after quantization-aware training: test "
                    "accuracy %.4f",
                    fake_acc);
        nn_qmodel q;
        if ((st = nn_quantize(&q, &net, &data.train, &data.norm, calib, 4)) != TD_OK)
            goto fail_saved;
        double acc;
        if ((st = nn_qmodel_evaluate(&q, &data.test, &data.norm, test_images, true, r.threads,
                                     &acc)) != TD_OK) {
            nn_qmodel_free(&q);
            goto fail_saved;
        }
        json_object_set_new(out, "int4_qat_accuracy", td_json_real(acc));
        json_object_set_new(out, "qat_epochs", json_integer(qat_epochs));
        td_log_info("int4 reference accuracy after quantization-aware training %.4f", acc);
        if ((st = nn_model_add_quant(&saved, &q)) != TD_OK) {
            nn_qmodel_free(&q);
            goto fail_saved;
        }
    }
    json_object_set_new(out, "int_accuracy", ints);
    json_object_set_new(out, "eval_wall_s", td_json_real(td_now_s() - t_eval));
    json_object_set_new(out, "wall_s", td_json_real(res.wall_s + td_now_s() - t_eval));
    json_object_set_new(out, "history", ctx.history);
    ctx.history = NULL;
    if (out_path) {
        if ((st = nn_model_save(&saved, out_path)) != TD_OK)
            goto fail_saved;
        json_object_set_new(out, "model", json_string(out_path));
        td_log_info("model written to %s", out_path);
    }
    if (c.json) {
        st = td_json_print(out);
        out = NULL;
    } else {
        printf("%s: test accuracy %.4f (float), int8 %.4f; %lld images x %d epochs in %.1f s "
               "(%.0f images/s)\n",
               net.g.name, test_acc, json_real_value(json_object_get(out, "int8_accuracy")),
               (long long)(r.epochs ? res.images_seen / r.epochs : 0), r.epochs, res.wall_s,
               res.images_per_s);
    }
    rc = st == TD_OK ? 0 : cmd_fail("train", st);
    nn_model_free(&saved);
    goto done;
fail_saved:
    nn_model_free(&saved);
fail_net:
    rc = cmd_fail("train", st);
    goto done;
fail_data:
    rc = cmd_fail("train", st);
    nn_data_free(&data);
    nn_model_free(model);
    free(model);
    json_decref(ctx.history);
    return rc;
done:
    json_decref(out);
    json_decref(ctx.history);
    nn_net_free(&net);
    nn_data_free(&data);
    nn_model_free(model);
    free(model);
    return rc;
}
