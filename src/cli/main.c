/* lens: analyse large volumes of user content with neural models. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: lens <command> [options]\n"
          "\n"
          "commands:\n"
          "  analyze   reviews + themes.json -> themes, sentiment and reports\n"
          "  embed     embed texts (.txt, .jsonl, .csv) into .npy or .jsonl\n"
          "  graph     info: TF.js graph models (inputs, outputs, ops, parameters, FLOPs)\n"
          "  model     pull | path | info: manage models in the cache\n"
          "  project   UMAP map of embeddings or texts -> CSV id,x,y[,z]\n"
          "  serve     HTTP service: jobs, inference with dynamic batching, web UI\n"
          "  tokenize  print token ids of texts, one JSON array per line\n"
          "  train-static  train a static word-vector model (offline themes)\n"
          "  version   print the version\n"
          "  video     shots, transitions and facts of videos -> video.json per video\n"
          "\n"
          "Run `lens <command> --help` for a command's options.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        puts("lens 0.1.0");
        return 0;
    }
    /* a file over the size limit (ulimit -f) is a write error like a full
     * disk: EFBIG, one error line naming the file, no truncated output;
     * not death by SIGXFSZ */
    signal(SIGXFSZ, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (!strcmp(cmd, "embed")) rc = cmd_embed(argc - 1, argv + 1);
    else if (!strcmp(cmd, "analyze")) rc = cmd_analyze(argc - 1, argv + 1);
    else if (!strcmp(cmd, "project")) rc = cmd_project(argc - 1, argv + 1);
    else if (!strcmp(cmd, "model")) rc = cmd_model(argc - 1, argv + 1);
    else if (!strcmp(cmd, "tokenize")) rc = cmd_tokenize(argc - 1, argv + 1);
    else if (!strcmp(cmd, "train-static")) rc = cmd_train_static(argc - 1, argv + 1);
    else if (!strcmp(cmd, "serve")) rc = cmd_serve(argc - 1, argv + 1);
    else if (!strcmp(cmd, "video")) rc = cmd_video(argc - 1, argv + 1);
    else if (!strcmp(cmd, "graph")) rc = cmd_graph(argc - 1, argv + 1);
    else {
        cli_fail("unknown command '%s'", cmd);
        usage(stderr);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
