/*
 * Text to numbers and booleans, strictly: the whole text must be the value,
 * so `12q` or `banana` is an error, never 12 or false. The command line
 * (kernel/lib/cmdline.c), the virtio_mmio.device= parser and the shell
 * commands share these, so every number is spelled the same everywhere.
 */
#ifndef KERNEL_LIB_PARSE_VALUE_H
#define KERNEL_LIB_PARSE_VALUE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal or 0x hex. 0, -EINVAL when `s` is not entirely a number, -ERANGE
 * when it does not fit in 64 bits; *out is untouched on error. */
int parse_u64(const char *s, uint64_t *out);
/* parse_u64 with an optional K, M or G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *out);
/* 1/0, y/n, yes/no, on/off, true/false in any case (Linux's kstrtobool
 * words). 0 or -EINVAL. */
int parse_bool(const char *s, bool *out);

/* What parse_size and parse_bool accept, for "expected ..." messages. */
#define PARSE_SIZE_EXPECTED "a number (decimal or 0x hex, optional K/M/G suffix)"
#define PARSE_BOOL_EXPECTED "a boolean (1/0, y/n, yes/no, on/off, true/false)"

#endif
