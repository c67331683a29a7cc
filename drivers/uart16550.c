/*
 * The console: a 16550 UART at COM1 (I/O ports 0x3f8-0x3ff, ISA IRQ 4).
 *
 * Output is polled: wait until the transmit holding register is empty (LSR
 * bit 5), then write the byte. Simple and strictly ordered, which is what a
 * test script reading the serial line wants.
 * Input is interrupt-driven: the "received data available" interrupt (IER
 * bit 0) moves bytes into a ring buffer, so typing is never lost while the
 * kernel is busy. On a PC the UART's interrupt line only reaches the
 * interrupt controller when MCR.OUT2 is set.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/io.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/log.h"
#include "kernel/lib/poll.h"

#define COM1 0x3f8
enum {
	UART_DATA = 0, /* RBR/THR, or divisor low when DLAB=1 */
	UART_IER = 1,  /* interrupt enable, or divisor high when DLAB=1 */
	UART_FCR = 2,  /* FIFO control (write) */
	UART_LCR = 3,  /* line control */
	UART_MCR = 4,  /* modem control */
	UART_LSR = 5,  /* line status */
};
#define LCR_8N1	     0x03
#define LCR_DLAB     0x80
#define LSR_DATA     0x01
#define LSR_THRE     0x20
#define MCR_DTR_RTS  0x03
#define MCR_OUT2     0x08
#define IER_RX	     0x01
#define COM1_ISA_IRQ 4

#define RX_SIZE 256 /* a power of two */
static volatile uint8_t rx_buf[RX_SIZE];
static volatile unsigned rx_head, rx_tail; /* head: irq writes; tail: reader */
static bool rx_irq_enabled;
static unsigned long rx_dropped;

void console_early_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1); /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

static void uart_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the kernel. */
	for (int spins = 0; spins < 100000; spins++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

static void uart_irq(void *ctx)
{
	while (inb(COM1 + UART_LSR) & LSR_DATA) {
		uint8_t c = inb(COM1 + UART_DATA);
		if (rx_head - rx_tail < RX_SIZE)
			rx_buf[rx_head++ % RX_SIZE] = c;
		else
			rx_dropped++;
	}
}

void console_init_irq(void)
{
	unsigned flags;
	unsigned gsi = isa_irq_to_gsi(COM1_ISA_IRQ, &flags);
	int r = request_irq(gsi, flags, uart_irq, NULL, "com1");

	if (r < 0) {
		pr_warn("console: no receive interrupt (GSI %u: error %d); input is polled\n", gsi,
			r);
		return;
	}
	outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	outb(COM1 + UART_IER, IER_RX);
	rx_irq_enabled = true;
	uart_irq(NULL); /* bytes that arrived before the interrupt was on */
}

int console_try_getc(void)
{
	unsigned long flags = irq_save();
	int c = -1;

	if (!rx_irq_enabled && (inb(COM1 + UART_LSR) & LSR_DATA))
		c = inb(COM1 + UART_DATA);
	else if (rx_tail != rx_head)
		c = rx_buf[rx_tail++ % RX_SIZE];
	irq_restore(flags);
	return c;
}

int console_getc(void)
{
	for (;;) {
		/* Deferred work (the network stack, which only ever runs in
		 * thread context) runs while the shell waits for input; the
		 * UART does not know what it is (kernel/lib/poll.h). */
		bool busy = poll_all();
		unsigned long flags = irq_save();
		if (rx_tail != rx_head || !rx_irq_enabled) {
			irq_restore(flags);
			int c = console_try_getc();
			if (c >= 0)
				return c;
			continue;
		}
		/* Nothing buffered and no work announced: sleep until an
		 * interrupt (ours, a device's, or the timer tick) and look
		 * again. The pending check runs with interrupts off, so an
		 * announcement after poll_all() still ends the wait. */
		if (!busy && !poll_pending())
			wait_for_interrupt();
		irq_restore(flags);
	}
}
