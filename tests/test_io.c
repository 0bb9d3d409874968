/* Readers and writers: safetensors validation, CSV/JSONL/TXT (+zstd), .npy,
 * sha256, thread pool. Malformed inputs must give one clear error naming the
 * file (and tensor or line), never a crash. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "base/sha256.h"
#include "io/safetensors.h"
#include "lens/io.h"
#include "lens/pool.h"
#include "test.h"

static char dir[256];

static const char *tmp(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* safetensors with the given JSON header and data bytes */
static void write_st(const char *path, const char *header, const void *data, size_t n)
{
    unsigned char len[8];
    uint64_t hl = strlen(header);
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(hl >> (8 * i));
    FILE *f = fopen(path, "wb");
    fwrite(len, 1, 8, f);
    fwrite(header, 1, hl, f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static void expect_st_error(const char *name, const char *header, const void *data, size_t n, const char *needle)
{
    const char *p = tmp(name);
    write_st(p, header, data, n);
    lens__safetensors *st = NULL;
    lens_error err = {0};
    int rc = lens__st_open(&st, p, &err);
    CHECK(rc != 0 && st == NULL, "%s: expected an error", name);
    CHECK(strstr(err.msg, p) != NULL, "%s: error does not name the file: %s", name, err.msg);
    CHECK(!needle || strstr(err.msg, needle), "%s: error lacks '%s': %s", name, needle, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "%s: error is not one line", name);
}

static void test_safetensors(void)
{
    float f32[4] = {1.0f, -2.5f, 3.25f, 0.0f};
    unsigned char f16[4] = {0x00, 0x3c, 0x00, 0xc0};   /* 1.0, -2.0 */
    unsigned char bf16[4] = {0x80, 0x3f, 0x20, 0xc0};  /* 1.0, -2.5 */
    unsigned char data[24];
    memcpy(data, f32, 16);
    memcpy(data + 16, f16, 4);
    memcpy(data + 20, bf16, 4);
    const char *good = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                       "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[20,24]}}";
    write_st(tmp("good.safetensors"), good, data, sizeof data);
    lens__safetensors *st = NULL;
    lens_error err = {0};
    CHECK(lens__st_open(&st, tmp("good.safetensors"), &err) == 0, "%s", err.msg);
    if (st) {
        float out[4];
        int64_t s22[2] = {2, 2}, s2[1] = {2};
        CHECK(lens__st_read_f32(st, "a", 2, s22, out, &err) == 0 && memcmp(out, f32, 16) == 0, "F32 values");
        CHECK(lens__st_read_f32(st, "h", 1, s2, out, &err) == 0 && out[0] == 1.0f && out[1] == -2.0f, "F16 values");
        CHECK(lens__st_read_f32(st, "b", 1, s2, out, &err) == 0 && out[0] == 1.0f && out[1] == -2.5f, "BF16 values");
        CHECK(lens__st_read_f32(st, "a", 1, s2, out, &err) == LENS_EFORMAT && strstr(err.msg, "'a'"), "shape check: %s", err.msg);
        CHECK(lens__st_read_f32(st, "zz", 1, s2, out, &err) == LENS_ENOTFOUND, "missing tensor");
        lens__st_close(st);
    }
    /* truncated: the valid file cut in the data */
    write_st(tmp("trunc.safetensors"), good, data, 10);
    st = NULL;
    CHECK(lens__st_open(&st, tmp("trunc.safetensors"), &err) != 0 && strstr(err.msg, "past the data"),
          "truncated: %s", err.msg);
    CHECK(strstr(err.msg, "tensor '") != NULL, "truncated file error names a tensor: %s", err.msg);
    write_file(tmp("short.safetensors"), "abc", 3);
    CHECK(lens__st_open(&st, tmp("short.safetensors"), &err) == LENS_EFORMAT, "3-byte file");
    /* header length far beyond the file: must not allocate it */
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, '{', '}'};
    write_file(tmp("huge.safetensors"), huge, sizeof huge);
    CHECK(lens__st_open(&st, tmp("huge.safetensors"), &err) == LENS_EFORMAT && strstr(err.msg, "header length"),
          "huge header: %s", err.msg);
    expect_st_error("notjson.safetensors", "{not json", "", 0, "header JSON");
    expect_st_error("dtype.safetensors", "{\"w\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,4]}}", data, 4, "'w'");
    expect_st_error("size.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data, 8, "'w'");
    expect_st_error("overlap.safetensors",
                    "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", data, 12, "overlaps");
    expect_st_error("gap.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data, 8, "gap");
    expect_st_error("trailing.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data, 8, "trailing");
    expect_st_error("negdim.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data, 4, "'x'");
    expect_st_error("overflow.safetensors",
                    "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", data, 4, "overflow");
    expect_st_error("offs.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", data, 8, "data_offsets");
}

static int read_all(const char *path, const lens_reader_opts *o, char texts[][64], int max, lens_error *err)
{
    lens_reader *r = NULL;
    if (lens_reader_open(&r, path, o, err)) return -1;
    int n = 0, rc;
    const char *t, *id;
    size_t len;
    while ((rc = lens_reader_next(r, &t, &len, &id, err)) == 1 && n < max) {
        snprintf(texts[n], 64, "%.*s|%s", (int)len, t, id);
        n++;
    }
    lens_reader_close(r);
    return rc < 0 ? -1 : n;
}

static void test_readers(void)
{
    char got[16][64];
    lens_error err = {0};
    const char *csv = "\xEF\xBB\xBFid,review,x\r\n1,\"a, \"\"quoted\"\"\nline\",z\r\n2,plain,\n\n3,\"\",q\n";
    write_file(tmp("in.csv"), csv, strlen(csv));
    lens_reader_opts o = {.id_field = "id"};
    int n = read_all(tmp("in.csv"), &o, got, 16, &err);
    CHECK(n == 3, "csv rows: %d (%s)", n, err.msg);
    if (n == 3) {
        CHECK(strcmp(got[0], "a, \"quoted\"\nline|1") == 0, "csv quoted field: [%s]", got[0]);
        CHECK(strcmp(got[1], "plain|2") == 0, "csv plain: [%s]", got[1]);
        CHECK(strcmp(got[2], "|3") == 0, "csv empty: [%s]", got[2]);
    }
    const char *bad = "text\n\"never closed\nmore\n";
    write_file(tmp("bad.csv"), bad, strlen(bad));
    CHECK(read_all(tmp("bad.csv"), NULL, got, 16, &err) < 0 && strstr(err.msg, "bad.csv:2"), "unterminated quote: %s", err.msg);
    lens_reader_opts oc = {.column = "nope"};
    CHECK(read_all(tmp("in.csv"), &oc, got, 16, &err) < 0 && strstr(err.msg, "no column 'nope'"), "missing column: %s", err.msg);

    const char *jl = "{\"text\":\"one\",\"id\":7}\n\n{\"text\":\"two\\u00e9\"}\n{\"text\":3}\n";
    write_file(tmp("in.jsonl"), jl, strlen(jl));
    lens_reader_opts oj = {.id_field = "id"};
    n = read_all(tmp("in.jsonl"), &oj, got, 16, &err);
    CHECK(n < 0 && strstr(err.msg, "in.jsonl:4") && strstr(err.msg, "not a string"), "jsonl bad field: %s", err.msg);
    const char *jl2 = "{\"text\":\"one\",\"id\":7}\n{oops}\n";
    write_file(tmp("in2.jsonl"), jl2, strlen(jl2));
    CHECK(read_all(tmp("in2.jsonl"), NULL, got, 16, &err) < 0 && strstr(err.msg, "in2.jsonl:2"), "jsonl invalid: %s", err.msg);

    const char *txt = "first\r\nsecond\n\nlast";
    write_file(tmp("in.txt"), txt, strlen(txt));
    n = read_all(tmp("in.txt"), NULL, got, 16, &err);
    CHECK(n == 4 && strcmp(got[0], "first|") == 0 && strcmp(got[2], "|") == 0 && strcmp(got[3], "last|") == 0,
          "txt lines: %d", n);

    /* zstd-compressed JSONL */
    char comp[256];
    size_t cn = ZSTD_compress(comp, sizeof comp, jl2, 22, 3);
    write_file(tmp("in.jsonl.zst"), comp, cn);
    n = read_all(tmp("in.jsonl.zst"), NULL, got, 1, &err);
    CHECK(n == 1 && strcmp(got[0], "one|") == 0, "zst jsonl: %d %s", n, err.msg);
    write_file(tmp("cut.jsonl.zst"), comp, cn - 4);
    CHECK(read_all(tmp("cut.jsonl.zst"), NULL, got, 16, &err) < 0, "truncated zst is an error");

    lens_reader *r = NULL;
    CHECK(lens_reader_open(&r, tmp("in.xml"), NULL, &err) == LENS_EINVAL && strstr(err.msg, "unknown input type"), "%s", err.msg);
}

static void test_npy(void)
{
    lens_npy_writer *w = NULL;
    lens_error err = {0};
    float rows[6] = {1, 2, 3, 4, 5, 6};
    CHECK(lens_npy_create(&w, tmp("x.npy"), 3, &err) == 0, "%s", err.msg);
    lens_npy_append(w, rows, 1, &err);
    lens_npy_append(w, rows + 3, 1, &err);
    CHECK(lens_npy_finish(w, &err) == 0, "%s", err.msg);
    float *d = NULL;
    size_t r = 0, c = 0;
    CHECK(lens_npy_read_f32(tmp("x.npy"), &d, &r, &c, &err) == 0 && r == 2 && c == 3 && d && memcmp(d, rows, 24) == 0,
          "npy round trip: %s", err.msg);
    free(d);
}

static void test_sha256(void)
{
    static const struct { const char *in, *hex; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        lens__sha256 s;
        unsigned char d[32];
        char hex[65];
        lens__sha256_init(&s);
        /* feed in odd pieces to cross block boundaries */
        for (size_t k = 0; k < strlen(v[i].in); k += 3)
            lens__sha256_update(&s, v[i].in + k, strlen(v[i].in) - k < 3 ? strlen(v[i].in) - k : 3);
        lens__sha256_final(&s, d);
        lens__sha256_hex(d, hex);
        CHECK(strcmp(hex, v[i].hex) == 0, "sha256(%s) = %s", v[i].in, hex);
    }
    lens__sha256 s;
    unsigned char d[32];
    char hex[65];
    lens__sha256_init(&s);
    char a[1000];
    memset(a, 'a', sizeof a);
    for (int i = 0; i < 1000; i++) lens__sha256_update(&s, a, sizeof a);
    lens__sha256_final(&s, d);
    lens__sha256_hex(d, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "sha256 of 1M 'a'");
}

static void add_task(void *ctx, int task, int thread)
{
    (void)thread;
    __atomic_fetch_add((long *)ctx, task + 1, __ATOMIC_RELAXED);
}

static void test_pool(void)
{
    lens_pool *p = NULL;
    lens_error err = {0};
    CHECK(lens_pool_new(&p, 3, &err) == 0 && lens_pool_size(p) == 3, "pool");
    for (int round = 0; round < 200; round++) {
        long sum = 0;
        lens_pool_run(p, 1000, add_task, &sum);
        CHECK(sum == 500500, "round %d: sum %ld", round, sum);
    }
    /* short runs back to back (workers catch them spinning) and after a
     * pause longer than the spin (workers must be woken from sleep) */
    int bad = 0;
    for (int round = 0; round < 3000; round++) {
        long sum = 0;
        int n = 2 + round % 5;
        if (round % 50 == 0) usleep(300);
        lens_pool_run(p, n, add_task, &sum);
        bad += sum != (long)n * (n + 1) / 2;
    }
    CHECK(bad == 0, "%d of 3000 short runs lost tasks", bad);
    lens_pool_free(p);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lens-test-io-%ld", (long)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd) != 0) return 2;
    test_safetensors();
    test_readers();
    test_npy();
    test_sha256();
    test_pool();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 2;
    TEST_DONE();
}
