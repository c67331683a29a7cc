#ifndef KERNEL_MAIN_H
#define KERNEL_MAIN_H

#include <stdbool.h>
#include <stdnoreturn.h>

/* The kernel proper (kernel/main.c), entered from arch/x86_64/boot/entry.S
 * once boot_info is filled.
 * `boot_info_ok` is false when the loader's information was unusable. */
noreturn void kmain(bool boot_info_ok);

#define KERNEL_VERSION "0.1"

#endif
