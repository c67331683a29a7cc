/*
 * lwIP's OS emulation layer header. With NO_SYS=1 (net/lwipopts.h) lwIP
 * needs no semaphores, mailboxes or threads: the only system function it
 * calls is sys_now() (net/netif_glue.c). This file exists for lwIP code
 * that includes it unconditionally.
 */
#ifndef NET_ARCH_SYS_ARCH_H
#define NET_ARCH_SYS_ARCH_H
#endif
