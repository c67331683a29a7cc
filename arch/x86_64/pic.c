/*
 * The legacy 8259A programmable interrupt controller pair (Intel 8259A
 * datasheet, "Initialization Command Words"). We route every interrupt
 * through the IOAPICs, but the PICs still exist on pc and q35 (and on
 * microvm unless pic=off). At power-on their vectors overlap the CPU
 * exceptions (IRQ0 would arrive as vector 8, #DF), so even a spurious
 * interrupt would be misread: remap them to 0x20-0x2f, then mask every line.
 * On a machine without a PIC these port writes go nowhere, which is harmless.
 */
#include "arch/x86_64/io.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/trap.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

#define ICW1_INIT 0x10 /* start the initialization sequence */
#define ICW1_ICW4 0x01 /* ICW4 will follow */
#define ICW4_8086 0x01 /* 8086 mode, normal EOI */

/* Old PICs need a moment between commands; a write to the unused POST
 * port 0x80 takes about a microsecond. */
static void io_delay(void)
{
	outb(0x80, 0);
}

void pic_disable(void)
{
	/* ICW1: edge-triggered, cascaded, ICW4 needed. */
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	io_delay();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	io_delay();
	/* ICW2: the vector offsets. */
	outb(PIC1_DATA, VECTOR_PIC_BASE);
	io_delay();
	outb(PIC2_DATA, VECTOR_PIC_BASE + 8);
	io_delay();
	/* ICW3: the slave hangs off master input 2; the slave's identity is 2. */
	outb(PIC1_DATA, 1 << 2);
	io_delay();
	outb(PIC2_DATA, 2);
	io_delay();
	outb(PIC1_DATA, ICW4_8086);
	io_delay();
	outb(PIC2_DATA, ICW4_8086);
	io_delay();
	/* OCW1: mask all eight lines on each. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}
