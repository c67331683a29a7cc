/*
 * The kernel command line, Linux style: space-separated `key=value` and
 * bare `flag` words; double quotes group a value containing spaces.
 *
 * Every key the kernel understands is declared with CMDLINE_OPTION next to
 * the code that reads it, with its type:
 *
 *	CMDLINE_OPTION(vp_msix, .key = "virtio_pci.msix", .type = CMDLINE_BOOL,
 *		       .def = true, .help = "...");
 *
 * cmdline_parse() checks every word once, at boot, against these
 * declarations and reports, naming the word and what was expected: a
 * malformed word, an unknown key, a value of the wrong type (or one the
 * option's .check refuses), and a key given twice. A bad word is dropped and
 * the others are kept. Readers then get only checked values, through the
 * accessor of the option's type, so no reader parses or reports on its own.
 */
#ifndef KERNEL_LIB_CMDLINE_H
#define KERNEL_LIB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/section.h"

enum cmdline_type {
	CMDLINE_STRING = 1, /* any text after '='; .check may refuse some */
	CMDLINE_BOOL,	    /* bare `key` (true) or key=PARSE_BOOL_EXPECTED */
	CMDLINE_U64,	    /* key=PARSE_SIZE_EXPECTED */
};

struct cmdline_option {
	const char *key;
	enum cmdline_type type;
	/* false: given twice, the last good value wins (and a warning says
	 * so), as in Linux. true: every good value is kept, in command-line
	 * order, for cmdline_next() (virtio_mmio.device=...). */
	bool repeat;
	/* CMDLINE_BOOL and CMDLINE_U64: the value when absent or refused. A
	 * CMDLINE_STRING has no default: its reader sees NULL. */
	uint64_t def;
	/* CMDLINE_U64 only: the accepted range, inclusive. max 0 means no
	 * upper bound, so a zero-initialised declaration takes any number. */
	uint64_t min, max;
	/* CMDLINE_STRING only, optional: NULL when `value` is good, else what
	 * was expected (for "expected ..."; may point at a static buffer). */
	const char *(*check)(const char *value);
	const char *help;
};

#define CMDLINE_OPTION(id, ...)                                                                    \
	SECTION_ENTRY(cmdline_options, struct cmdline_option, cmdline_opt_##id) = {__VA_ARGS__}

/* The longest command line kept: at least what every boot path carries
 * (BOOT_CMDLINE_MAX, checked in cmdline.c), twice Linux's x86 default. */
#define CMDLINE_TEXT_MAX 4096

/* Split `text` (copied) into words and check them against the declared
 * options, reporting every problem; returns the number of words dropped
 * (malformed, unknown, refused, or lost past CMDLINE_TEXT_MAX). */
int cmdline_parse(const char *text);
/* The same for a text a boot path may have cut: the loader had `sent`
 * characters. When that is more than arrived, the cut word is dropped too
 * and the loss is reported. */
int cmdline_parse_received(const char *text, size_t sent);

/* Readers, one per type. A key read with the wrong type, or not declared,
 * is a bug in the reader: reported, and the default is returned. */
bool cmdline_bool(const char *key);
uint64_t cmdline_u64(const char *key);
const char *cmdline_string(const char *key); /* the winning value, or NULL */
/* Every good value of a repeatable string option, in order: start with
 * *pos = 0; NULL at the end. */
const char *cmdline_next(const char *key, unsigned *pos);
/* Whether a good `key` word was given (of any type). */
bool cmdline_given(const char *key);

/* `help options`: one line per declared option, with its type and
 * default. */
void cmdline_print_options(void);

#endif
