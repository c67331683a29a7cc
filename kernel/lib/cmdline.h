/*
 * The kernel command line, Linux style: space-separated `key=value` and
 * bare `flag` words; double quotes group a value containing spaces. A key
 * may appear several times (virtio_mmio.device=...).
 *
 * Every key the kernel understands is declared with CMDLINE_OPTION next to
 * the code that reads it; after boot, words whose key nobody declared are
 * reported, and `help options` lists the declared ones.
 */
#ifndef KERNEL_LIB_CMDLINE_H
#define KERNEL_LIB_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/lib/section.h"

struct cmdline_option {
	const char *key;
	const char *help;
};

#define CMDLINE_OPTION(id, key_, help_)                                                            \
	SECTION_ENTRY(cmdline_options, struct cmdline_option, cmdline_opt_##id) = {key_, help_}

#define CMDLINE_MAX_WORDS 64

/* Split `text` (copied) into words. Returns 0, or -E2BIG / -EINVAL with a
 * message printed for a command line that cannot be parsed. */
int cmdline_parse(const char *text);

/* The value of the first `key=...` word ("" for a bare flag), or NULL. */
const char *cmdline_get(const char *key);
/* Iterate over every value of `key`: start with *pos = 0. */
const char *cmdline_next(const char *key, unsigned *pos);
bool cmdline_flag(const char *key); /* present, and not =0/=off/=no */
/* Parse the value of `key` as an unsigned number (0x.. hex, K/M/G
 * suffixes allowed). Returns `def` when absent; prints an error and returns
 * `def` when malformed. */
uint64_t cmdline_get_u64(const char *key, uint64_t def);

/* Print one line per word whose key no CMDLINE_OPTION declares; return the
 * count. */
int cmdline_report_unknown(void);

/* Number helpers shared with other parsers (virtio_mmio.device=...). Return
 * 0 on success, -EINVAL when `s` is not entirely a number. */
int parse_u64(const char *s, uint64_t *out);
int parse_size(const char *s, uint64_t *out); /* with K/M/G suffix */

#endif
