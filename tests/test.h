/* A tiny test harness: CHECK records failures and keeps going; each test
 * binary returns non-zero if any check failed. */
#ifndef LENS_TEST_H
#define LENS_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int test_failures, test_checks;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        test_checks++;                                                           \
        if (!(cond)) {                                                           \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

#define TEST_DONE()                                                              \
    do {                                                                         \
        printf("%d checks, %d failed\n", test_checks, test_failures);            \
        return test_failures ? 1 : 0;                                            \
    } while (0)

#endif
