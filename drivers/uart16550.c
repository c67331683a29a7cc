/*
 * The console: a 16550 UART at COM1 (I/O ports 0x3f8-0x3ff, ISA IRQ 4).
 *
 * It registers itself as a console driver (kernel/console/console.h):
 * output is polled, waiting until the transmit holding register is empty
 * (LSR bit 5) before each byte; input is the "received data available"
 * interrupt (IER bit 0), whose handler hands every byte to the console's
 * queue. On a PC the UART's interrupt line only reaches the interrupt
 * controller when MCR.OUT2 is set.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/io.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq.h"

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

static bool uart_setup(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1); /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
	/* Every PC machine model QEMU offers has COM1; the bounded wait in
	 * uart_putc() keeps a missing one harmless. */
	return true;
}

static void uart_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the kernel. */
	for (int spins = 0; spins < 100000; spins++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

/* A terminal wants CR LF; the kernel writes LF. */
static void uart_send(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

static int uart_poll_getc(void)
{
	return (inb(COM1 + UART_LSR) & LSR_DATA) ? inb(COM1 + UART_DATA) : -1;
}

static void uart_irq(void *ctx)
{
	while (inb(COM1 + UART_LSR) & LSR_DATA)
		console_input(inb(COM1 + UART_DATA));
}

static int uart_start_input(void)
{
	unsigned flags;
	unsigned gsi = isa_irq_to_gsi(COM1_ISA_IRQ, &flags);
	int r = request_irq(gsi, flags, uart_irq, NULL, "com1");

	if (r < 0)
		return r;
	outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	outb(COM1 + UART_IER, IER_RX);
	uart_irq(NULL); /* bytes that arrived before the interrupt was on */
	return 0;
}

CONSOLE_DRIVER(uart16550, .name = "com1", .setup = uart_setup, .send = uart_send,
	       .poll_getc = uart_poll_getc, .start_input = uart_start_input);
