/*
 * The system calls newlib expects from its host (newlib's "libgloss" layer,
 * which we replace): for an x86_64-elf newlib these are the plain names
 * write, read, close, fstat, isatty, lseek and _exit; sbrk is in
 * kernel/libc/heap.c. Standard output and error go to the serial console,
 * standard input comes from it. There are no files.
 *
 * newlib's malloc also asks its host for a lock around the heap. Ours is a
 * spinlock taken with interrupts off: every CPU allocates, and interrupt
 * handlers allocate too (the split ring takes indirect tables from
 * dma_alloc while a completion callback refills a queue), so a handler must
 * never run while its own CPU is half-way through malloc. newlib takes the
 * lock recursively (malloc calling itself through sbrk's bookkeeping), so
 * the holder only counts the depth.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "arch/x86_64/machine.h"
#include "kernel/console/console.h"
#include "kernel/lib/spinlock.h"

/* Prototypes: newlib's headers do not declare these for this target. */
int write(int fd, const void *buf, size_t len);
int read(int fd, void *buf, size_t len);
int close(int fd);
int fstat(int fd, struct stat *st);
int isatty(int fd);
off_t lseek(int fd, off_t offset, int whence);
void _exit(int status);
struct _reent;
void __malloc_lock(struct _reent *r);
void __malloc_unlock(struct _reent *r);

/* Guards newlib's heap and sbrk's break. The depth and the saved flags
 * belong to the holder. A leaf lock: sbrk only moves a break inside memory
 * taken at boot, so nothing else is locked under it. */
static struct spinlock heap_lock = SPINLOCK_INIT("heap");
static unsigned malloc_lock_depth;
static unsigned long malloc_lock_flags;

void __malloc_lock(struct _reent *r)
{
	unsigned long flags;

	if (spin_held_by_me(&heap_lock)) {
		malloc_lock_depth++;
		return;
	}
	flags = spin_lock_irqsave(&heap_lock);
	malloc_lock_flags = flags;
	malloc_lock_depth = 1;
}

void __malloc_unlock(struct _reent *r)
{
	if (--malloc_lock_depth == 0)
		spin_unlock_irqrestore(&heap_lock, malloc_lock_flags);
}

int write(int fd, const void *buf, size_t len)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	console_write(buf, len);
	return (int)len;
}

int read(int fd, void *buf, size_t len)
{
	if (fd != 0) {
		errno = EBADF;
		return -1;
	}
	if (len == 0)
		return 0;
	*(char *)buf = (char)console_getc(); /* one byte at a time: a terminal */
	return 1;
}

int close(int fd)
{
	errno = EBADF;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	st->st_mode = S_IFCHR; /* a character device: newlib then line-buffers */
	return 0;
}

int isatty(int fd)
{
	return fd <= 2;
}

off_t lseek(int fd, off_t offset, int whence)
{
	errno = ESPIPE;
	return -1;
}

void _exit(int status)
{
	machine_exit(status == 0 ? EXIT_PASS : EXIT_FAIL);
}
