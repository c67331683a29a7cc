/*
 * kernel/lib/panic.h for host tests (panic_host.c): a test that expects a
 * panic points panic_host_catch at a jmp_buf; panic() then records its
 * message in panic_host_message and jumps there instead of aborting.
 */
#ifndef TEST_HOST_SHIM_PANIC_HOST_H
#define TEST_HOST_SHIM_PANIC_HOST_H

#include <setjmp.h>

extern _Thread_local jmp_buf *panic_host_catch;
extern _Thread_local char panic_host_message[256];

#endif
