/*
 * Link-time registration. A file declares a command-line option, an init
 * function, a shell command or a self-test by placing a small constant
 * struct in a named section; the linker gathers each section into one array
 * (__start_NAME .. __stop_NAME). So adding a driver never means editing a
 * central list, and each file shows everything it contributes.
 */
#ifndef KERNEL_LIB_SECTION_H
#define KERNEL_LIB_SECTION_H

#define SECTION_ENTRY(section, type, id)                                                           \
	static const type id __attribute__((used, __section__(#section), aligned(8)))

#define SECTION_FOREACH(section, type, var)                                                        \
	extern const type __start_##section[], __stop_##section[];                                 \
	for (const type *var = __start_##section; var < __stop_##section; var++)

#endif
