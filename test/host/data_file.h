/*
 * Reading a recorded file from test/host/data/ (ACPI tables, DSDTs) for a
 * host unit test. The tests run from the project root.
 */
#ifndef TEST_HOST_DATA_FILE_H
#define TEST_HOST_DATA_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole file in a malloc'd buffer of exactly its size (so ASan sees
 * any read past it), its length in *len; NULL if it cannot be read. */
static inline uint8_t *load_data_file(const char *name, size_t *len)
{
	char path[256];
	uint8_t *buf = NULL;
	long n;
	FILE *fp;

	snprintf(path, sizeof path, "test/host/data/%s", name);
	fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(fp);
	return buf;
}

#endif
