/*
 * The legacy 8259A PIC pair (arch/x86_64/pic.c), which this kernel only
 * silences: every interrupt goes through the IOAPICs and the local APIC.
 */
#ifndef ARCH_X86_64_PIC_H
#define ARCH_X86_64_PIC_H

/* Move the PIC's vectors off the CPU exceptions (to 0x20-0x2f) and mask
 * every line, so nothing but a spurious interrupt can come from it. */
void pic_disable(void);

#endif
