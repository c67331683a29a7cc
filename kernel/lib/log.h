/*
 * Kernel messages. printf comes from newlib and goes to the serial console.
 * The prefixes make errors easy to grep for in test logs.
 */
#ifndef KERNEL_LIB_LOG_H
#define KERNEL_LIB_LOG_H

#include <stdio.h>

#define pr_info(...) printf(__VA_ARGS__)
#define pr_warn(...) (printf("warning: "), printf(__VA_ARGS__))
#define pr_err(...)  (printf("error: "), printf(__VA_ARGS__))

#endif
