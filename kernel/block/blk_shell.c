/*
 * Shell commands for block devices (kernel/block/blkdev.h; the requests are
 * virtio 1.2 section 5.2.6 ones): `lsblk` lists them, `blk` reads, writes,
 * flushes, asks the device id, discards, zeroes, sets the write cache mode
 * and shows counters. Every failure prints the request and the error, and
 * the shell goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/block/blkdev.h"
#include "kernel/console/console.h"
#include "kernel/lib/parse_value.h"
#include "kernel/shell/shell.h"

#define SHELL_MAX_SECTORS 16

/* Static: the device reads and writes it by DMA, and 8 KiB is too much
 * for a stack. */
static uint8_t shell_buf[SHELL_MAX_SECTORS * BLK_SECTOR_SIZE] __attribute__((aligned(4096)));

static void print_size(uint64_t sectors)
{
	uint64_t bytes = sectors * BLK_SECTOR_SIZE;

	if (bytes >= (1ull << 30))
		printf("%6llu.%01llu GiB", (unsigned long long)(bytes >> 30),
		       (unsigned long long)((bytes % (1ull << 30)) * 10 >> 30));
	else if (bytes >= (1ull << 20))
		printf("%6llu.%01llu MiB", (unsigned long long)(bytes >> 20),
		       (unsigned long long)((bytes % (1ull << 20)) * 10 >> 20));
	else
		printf("%6llu.%01llu KiB", (unsigned long long)(bytes >> 10),
		       (unsigned long long)((bytes % 1024) * 10 >> 10));
}

static int cmd_lsblk(int argc, char **argv)
{
	bool verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	unsigned n = 0;

	printf("NAME  %10s %12s  BLOCK  RO  QUEUES  DRIVER      FEATURES\n", "SIZE", "SECTORS");
	for (struct blkdev *d = blkdev_next(NULL); d; d = blkdev_next(d), n++) {
		printf("%-5s ", d->name);
		print_size(d->capacity);
		printf(" %12llu  %5u  %2s  %6u  %-10s  %s\n", (unsigned long long)d->capacity,
		       d->block_size, d->read_only ? "ro" : "rw", d->nqueues,
		       d->driver ? d->driver : "?", d->features);
		if (verbose && d->ops->print_stats)
			d->ops->print_stats(d);
	}
	if (!n)
		printf("(no block devices)\n");
	return 0;
}
SHELL_COMMAND(lsblk, "lsblk [-v]", "list block devices (-v: limits, queues, counters)", cmd_lsblk);

static void hexdump(const uint8_t *p, size_t len, uint64_t base)
{
	/* Stops at Ctrl-C: the request has completed; only the printing (some
	 * seconds of a 115200 baud line for 16 sectors) is cut short. */
	for (size_t off = 0; off < len && !console_interrupted(); off += 16) {
		printf("%08llx ", (unsigned long long)(base + off));
		for (size_t i = 0; i < 16; i++)
			printf("%s%02x", i == 8 ? "  " : " ", p[off + i]);
		printf("  |");
		for (size_t i = 0; i < 16; i++)
			putchar(p[off + i] >= 0x20 && p[off + i] < 0x7f ? p[off + i] : '.');
		printf("|\n");
	}
}

static int report(const char *what, struct blkdev *d, uint64_t sector, uint32_t count, int err)
{
	if (err)
		printf("blk: %s %s sector %llu count %u: error %d (%s)\n", what, d->name,
		       (unsigned long long)sector, count, err, blk_errname(err));
	else
		printf("blk: %s %s sector %llu count %u: ok\n", what, d->name,
		       (unsigned long long)sector, count);
	return err ? 1 : 0;
}

static bool parse_num(const char *s, uint64_t *v, const char *what)
{
	if (parse_u64(s, v) == 0)
		return true;
	printf("blk: %s '%s' is not a number\n", what, s);
	return false;
}

static void usage(void)
{
	printf("usage: blk read DEV SECTOR [COUNT]    hexdump COUNT (<= %u) sectors\n"
	       "       blk write DEV SECTOR BYTE [COUNT] fill sectors with BYTE\n"
	       "       blk id DEV | blk flush DEV | blk stats DEV\n"
	       "       blk discard DEV SECTOR COUNT | blk zero DEV SECTOR COUNT\n"
	       "       blk cache DEV [writeback|writethrough]  show or set the write cache\n",
	       SHELL_MAX_SECTORS);
}

static int cmd_blk(int argc, char **argv)
{
	uint64_t sector = 0, count = 1, byte = 0;
	struct blkdev *d;
	int err;

	if (argc < 3) {
		usage();
		return 1;
	}
	d = blkdev_find(argv[2]);
	if (!d) {
		printf("blk: no block device '%s' (try lsblk)\n", argv[2]);
		return 1;
	}
	const char *op = argv[1];

	if (strcmp(op, "id") == 0) {
		char id[BLK_ID_BYTES + 1];

		err = blk_get_id(d, id);
		if (err)
			return report("id", d, 0, 0, err);
		printf("%s id '%s'\n", d->name, id);
		return 0;
	}
	if (strcmp(op, "flush") == 0)
		return report("flush", d, 0, 0, blk_flush(d));
	if (strcmp(op, "cache") == 0) {
		if (argc > 3) {
			bool wb = strcmp(argv[3], "writeback") == 0;
			if (!wb && strcmp(argv[3], "writethrough") != 0) {
				printf("blk: cache mode '%s', expected writeback or writethrough\n",
				       argv[3]);
				return 1;
			}
			err = blk_set_cache_mode(d,
						 wb ? BLK_CACHE_WRITEBACK : BLK_CACHE_WRITETHROUGH);
			if (err) {
				printf("blk: %s: cache mode not changed: error %d (%s)%s\n",
				       d->name, err, blk_errname(err),
				       err == -EOPNOTSUPP ? ", the device's mode is fixed" : "");
				return 1;
			}
		}
		printf("%s cache %s\n", d->name, blk_cache_mode_name(d->cache));
		return 0;
	}
	if (strcmp(op, "stats") == 0) {
		for (unsigned o = 0; o < BLK_OP_COUNT; o++)
			printf("%-13s submitted %llu completed %llu errors %llu rejected %llu "
			       "sectors %llu\n",
			       blk_op_name(o), (unsigned long long)d->stats[o].submitted,
			       (unsigned long long)d->stats[o].completed,
			       (unsigned long long)d->stats[o].errors,
			       (unsigned long long)d->stats[o].rejected,
			       (unsigned long long)d->stats[o].sectors);
		if (d->ops->print_stats)
			d->ops->print_stats(d);
		return 0;
	}
	if (argc < 4 || !parse_num(argv[3], &sector, "sector")) {
		usage();
		return 1;
	}
	if (strcmp(op, "read") == 0) {
		if (argc > 4 && !parse_num(argv[4], &count, "count"))
			return 1;
		if (count == 0 || count > SHELL_MAX_SECTORS) {
			printf("blk: count %llu, expected 1..%u\n", (unsigned long long)count,
			       SHELL_MAX_SECTORS);
			return 1;
		}
		err = blk_read(d, sector, (uint32_t)count, shell_buf);
		if (!err)
			hexdump(shell_buf, count * BLK_SECTOR_SIZE, sector * BLK_SECTOR_SIZE);
		return report("read", d, sector, (uint32_t)count, err);
	}
	if (strcmp(op, "write") == 0) {
		if (argc < 5 || !parse_num(argv[4], &byte, "byte")) {
			usage();
			return 1;
		}
		if (argc > 5 && !parse_num(argv[5], &count, "count"))
			return 1;
		if (byte > 0xff || count == 0 || count > SHELL_MAX_SECTORS) {
			printf("blk: byte %llu count %llu, expected 0..255 and 1..%u\n",
			       (unsigned long long)byte, (unsigned long long)count,
			       SHELL_MAX_SECTORS);
			return 1;
		}
		memset(shell_buf, (int)byte, count * BLK_SECTOR_SIZE);
		return report("write", d, sector, (uint32_t)count,
			      blk_write(d, sector, (uint32_t)count, shell_buf));
	}
	if (strcmp(op, "discard") == 0 || strcmp(op, "zero") == 0) {
		if (argc < 5 || !parse_num(argv[4], &count, "count") || count > UINT32_MAX) {
			usage();
			return 1;
		}
		err = op[0] == 'd' ? blk_discard(d, sector, (uint32_t)count)
				   : blk_write_zeroes(d, sector, (uint32_t)count, false);
		return report(op, d, sector, (uint32_t)count, err);
	}
	usage();
	return 1;
}
SHELL_COMMAND(blk, "blk read|write|id|flush|discard|zero|cache|stats DEV ...",
	      "block device requests (blk with no arguments: usage)", cmd_blk);
