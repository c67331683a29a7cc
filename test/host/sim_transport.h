/*
 * A test transport (struct virtio_config_ops) whose device lives in
 * memory: status register (virtio 1.2 section 2.1), feature bits (2.2),
 * device config space with a generation counter (2.5), and split-ring
 * queues (2.7). Knobs make it misbehave the ways real devices do: refuse
 * FEATURES_OK, never finish a reset, change its config mid-read.
 */
#ifndef TEST_HOST_SIM_TRANSPORT_H
#define TEST_HOST_SIM_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"

#define SIM_TP_MAX_VQS 4

struct sim_transport {
	struct virtio_device vdev;
	/* device state */
	uint8_t status;
	uint64_t offered;
	uint64_t written_features; /* what finalize_features wrote */
	uint8_t config[64];
	uint32_t generation;
	/* misbehaviour */
	bool refuse_features; /* clears FEATURES_OK when set */
	bool stuck_reset;     /* status stays non-zero after reset */
	int tear_reads;	      /* this many config reads see an update half-way */
	bool config_unstable; /* the generation changes on every read */
	/* observations */
	uint8_t status_log[32]; /* every value written to status */
	unsigned nlog;
	unsigned resets, gets;
	struct virtqueue *vqs[SIM_TP_MAX_VQS];
	unsigned nvqs;
	unsigned notifies;
};

extern const struct virtio_config_ops sim_transport_ops;

/* A modern device of type `id` offering `features`. */
void sim_transport_init(struct sim_transport *t, uint32_t id, uint64_t features);

#endif
