# virtio-os.gdb: attach gdb to the kernel that `make debug` boots, and give
# it commands that show virtqueues the way the virtio 1.2 specification
# describes them.
#
#   make debug                        # terminal 1: QEMU, stopped before the firmware
#   gdb -x mk/gdb/virtio-os.gdb       # terminal 2, from the project root
#
# Run it from the project root: the kernel is found by a relative path. Two
# convenience variables, set before this file is read, override the
# defaults:
#
#   gdb -ex 'set $gdb_port = 1235' -ex 'set $kernel = "other/kernel.elf"' -x mk/gdb/virtio-os.gdb
#
# The commands only use symbol and type names (vring_interrupt, struct
# virtqueue, struct vring_common, struct vring_split, struct vring_pk,
# struct virtio_device), never source file names, so they keep working when
# files move. Type `help user-defined` for the list, `help vq-dump` for one.

# ---- Where the kernel and the stub are ---------------------------------------

if $_isvoid($gdb_port)
  set $gdb_port = 1234
end
if $_isvoid($kernel)
  set $kernel = "build/kernel.elf"
end

# ---- vq-dump ------------------------------------------------------------------

# A virtqueue's layout-independent part is `struct virtqueue`, which is the
# first member of `struct vring_common`, which is the first member of each
# layout's own struct (the rings _Static_assert this). So one pointer, cast
# three ways, reaches all of them: this is how ring_impl.h's to_common()
# works too. Convenience variables are global in gdb, hence the $vqd_ prefix.
define vq-dump
  if $argc == 0
    set $vqd_vq = (struct virtqueue *) vq
  else
    set $vqd_vq = (struct virtqueue *) ($arg0)
  end
  set $vqd_c = (struct vring_common *) $vqd_vq

  printf "virtqueue %p  name \"", $vqd_vq
  if $vqd_vq->name
    printf "%s", $vqd_vq->name
  end
  printf "\"  index %u", $vqd_vq->index
  if $vqd_vq->vdev
    printf "  device virtio%d", $vqd_vq->vdev->index
  end
  # The ops table names its layout; a test double may not have one.
  if $vqd_vq->ops && $vqd_vq->ops->layout
    printf "  layout %s\n", $vqd_vq->ops->layout
  else
    printf "  layout none\n"
  end

  # num_free counts descriptors, in_flight buffers: an indirect buffer
  # takes one descriptor, a direct chain one per scatterlist entry.
  printf "  ring      num %u  in_flight %u  num_free %u  num_max %u\n", $vqd_c->num, $vqd_c->in_flight, $vqd_vq->num_free, $vqd_vq->num_max
  # broken is set once the ring stopped trusting the device; indirect and
  # event are VIRTIO_RING_F_INDIRECT_DESC and VIRTIO_RING_F_EVENT_IDX, as
  # negotiated (6, "Reserved Feature Bits").
  printf "  flags     broken %d  indirect %d  event_idx %d\n", $vqd_c->broken, $vqd_c->indirect, $vqd_c->event
  printf "  callback  "
  if $vqd_vq->callback
    output/a $vqd_vq->callback
    echo \n
  else
    # A queue without a callback is one the driver only polls.
    printf "none\n"
  end
  printf "  stats     added %lu  completed %lu  kicks %lu  kicks_suppressed %lu  interrupts %lu\n", $vqd_vq->stats.added, $vqd_vq->stats.completed, $vqd_vq->stats.kicks, $vqd_vq->stats.kicks_suppressed, $vqd_vq->stats.interrupts
  printf "            spurious %lu  indirect %lu  full %lu  len_clamped %lu  broken %lu\n", $vqd_vq->stats.spurious, $vqd_vq->stats.indirect, $vqd_vq->stats.full, $vqd_vq->stats.len_clamped, $vqd_vq->stats.broken

  # The layout names are "split" and "packed": the first letter tells them
  # apart without gdb's Python ($_streq), so vq-dump works in any gdb.
  if $vqd_vq->ops && $vqd_vq->ops->layout && $vqd_vq->ops->layout[0] == 's'
    vq-dump-split $vqd_vq
  end
  if $vqd_vq->ops && $vqd_vq->ops->layout && $vqd_vq->ops->layout[0] == 'p'
    vq-dump-packed $vqd_vq
  end
end
document vq-dump
Print a virtqueue, its counters and its ring positions.
Usage: vq-dump [VQ]
VQ is a struct virtqueue *; without it, `vq` in the current frame (as at
the vring_interrupt breakpoint).

Shows its name, queue index, device and ring layout; the ring's size and
how many buffers the device holds (in_flight) and descriptors are free;
the broken flag and the negotiated ring features; the callback
vring_interrupt() runs; the counters of struct virtqueue_stats; and the
layout's own positions:
  split  (virtio 1.2 section 2.7): avail->idx, used->idx, last_used_idx and
         how many used entries wait to be taken by get_buf
  packed (section 2.8): next_avail/last_used slots and their wrap counters,
         the event suppression flags, whether the next slot holds a used
         descriptor
end

# Split ring (2.7). The driver writes the available ring (2.7.6), the device
# the used ring (2.7.8); both indices are free-running 16-bit counters, so
# "used entries not yet taken" is used->idx - last_used_idx modulo 2^16.
# avail_idx_shadow is the driver's copy of avail->idx: it never reads the
# shared one back, so the two differ only between an add and its publish.
define vq-dump-split
  set $vqd_vs = (struct vring_split *) ($arg0)
  set $vqd_avail = $vqd_vs->vring.avail->idx
  set $vqd_used = $vqd_vs->vring.used->idx
  printf "  split     avail.idx %u (shadow %u)  used.idx %u  last_used_idx %u  used_pending %u\n", $vqd_avail, $vqd_vs->avail_idx_shadow, $vqd_used, $vqd_vs->last_used_idx, ($vqd_used - $vqd_vs->last_used_idx) & 0xffff
  # Notification suppression by flags (2.7.7, 2.7.10): avail.flags 1 is
  # NO_INTERRUPT, used.flags 1 NO_NOTIFY; both ignored with EVENT_IDX.
  # free_head is the first descriptor of the driver's free list.
  printf "            avail.flags %#x  used.flags %#x  free_head %u\n", $vqd_vs->vring.avail->flags, $vqd_vs->vring.used->flags, $vqd_vs->free_head
  if $vqd_vs->c.event
    # With EVENT_IDX (2.7.7.2, 2.7.10) each side writes its wish after
    # the other's ring: used_event after avail->ring[num], avail_event
    # after used->ring[num].
    printf "            used_event %u (interrupt me past it)  avail_event %u (notify me past it)\n", $vqd_vs->vring.avail->ring[$vqd_vs->vring.num], *(uint16_t *) &$vqd_vs->vring.used->ring[$vqd_vs->vring.num]
  end
end
document vq-dump-split
Print a split ring's indices and suppression fields (virtio 1.2 section 2.7).
Usage: vq-dump-split VQ
The second half of vq-dump; VQ must be a split-ring virtqueue. Use
vq-dump, which picks the layout.
end

# Packed ring (2.8). One descriptor ring; a slot holds a used descriptor
# when its AVAIL (bit 7) and USED (bit 15) flags both equal the wrap counter
# of the lap the driver expects (2.8.1), which is used_wrap at last_used.
define vq-dump-packed
  set $vqd_pk = (struct vring_pk *) ($arg0)
  printf "  packed    next_avail %u  avail_wrap %d  last_used %u  used_wrap %d  free_id %u\n", $vqd_pk->next_avail, $vqd_pk->avail_wrap, $vqd_pk->last_used, $vqd_pk->used_wrap, $vqd_pk->free_id
  set $vqd_flags = $vqd_pk->vring.desc[$vqd_pk->last_used].flags
  set $vqd_a = ($vqd_flags >> 7) & 1
  set $vqd_u = ($vqd_flags >> 15) & 1
  printf "            desc[last_used].flags %#x  used_pending %d\n", $vqd_flags, $vqd_a == $vqd_u && $vqd_u == $vqd_pk->used_wrap
  # Event suppression (2.8.10): flags 0 ENABLE, 1 DISABLE, 2 DESC (then
  # off_wrap names the descriptor, with EVENT_IDX). The driver area is our
  # wish for interrupts, the device area the device's for notifications.
  printf "            driver event flags %u off_wrap %#x  device event flags %u off_wrap %#x\n", $vqd_pk->vring.driver->flags, $vqd_pk->vring.driver->off_wrap, $vqd_pk->vring.device->flags, $vqd_pk->vring.device->off_wrap
end
document vq-dump-packed
Print a packed ring's positions, wrap counters and event areas (virtio 1.2 section 2.8).
Usage: vq-dump-packed VQ
The second half of vq-dump; VQ must be a packed-ring virtqueue. Use
vq-dump, which picks the layout.
end

# ---- Devices ------------------------------------------------------------------

# A device's queues hang off vdev->vqs, linked by vq->next, in the order the
# driver created them (virtio_find_vqs).
define vq-list
  set $vql_vq = ((struct virtio_device *) ($arg0))->vqs
  while $vql_vq
    vq-dump $vql_vq
    set $vql_vq = $vql_vq->next
  end
end
document vq-list
vq-dump every virtqueue of a virtio device.
Usage: vq-list DEV
DEV is a struct virtio_device *; its queues come in the order its driver
created them. `virtio-devs` lists the devices and their addresses.
end

# The registry, found by $virtio_devices() below, is linked by vdev->next.
define virtio-devs
  set $vdd = $virtio_devices()
  while $vdd
    printf "virtio%d %p  device id %u  features %#lx  driver ", $vdd->index, $vdd, $vdd->id.device, $vdd->features
    if $vdd->driver
      printf "%s", $vdd->driver->name
    else
      printf "none"
    end
    printf "%s%s\n", $vdd->failed ? "  FAILED" : "", $vdd->needs_reset ? "  NEEDS_RESET" : ""
    set $vdd_vq = $vdd->vqs
    while $vdd_vq
      printf "  vq %p  \"%s\"  index %u  %s\n", $vdd_vq, $vdd_vq->name ? $vdd_vq->name : "", $vdd_vq->index, $vdd_vq->ops->layout
      set $vdd_vq = $vdd_vq->next
    end
    set $vdd = $vdd->next
  end
end
document virtio-devs
List the virtio devices the core registered, with their queues.
Usage: virtio-devs
For every device (any transport): its index, address, device id (virtio
1.2 section 5: 1 net, 2 block, 4 entropy ...), negotiated features, bound
driver, and its virtqueues with their addresses for vq-dump. `vq-list DEV`
dumps them all.
end

# The core's registry is a static `devices` in the core's file. Several
# files have a static of that name, and naming the file ('virtio.c'::devices)
# would break when it moves; plain gdb cannot pick a symbol by its type, so
# this one function is Python. It is defined here, not in a file of its own,
# so that nothing depends on the directory gdb was started from.
python
import gdb


class VirtioDevices(gdb.Function):
    """$virtio_devices(): the head of the virtio core's device registry,
    the static `devices` whose type is struct virtio_device *."""

    def __init__(self):
        super().__init__("virtio_devices")

    def invoke(self):
        for sym in gdb.lookup_static_symbols("devices"):
            t = sym.type.strip_typedefs()
            if t.code == gdb.TYPE_CODE_PTR and t.target().strip_typedefs().tag == "virtio_device":
                return sym.value()
        raise gdb.GdbError("no static `devices` of type struct virtio_device *: "
                           "are the kernel's symbols loaded (file build/kernel.elf)?")


VirtioDevices()
end

# ---- Symbols, breakpoints, connection -----------------------------------------

eval "file %s", $kernel

# Every transport's queue interrupt ends here, before the driver's
# callback: the place to watch a device hand buffers back. `vq-dump`.
break vring_interrupt
# The kernel found a state it cannot continue from; `bt` shows who.
break panic
# CPU exceptions (vectors 0-31) before the kernel dumps them and stops the
# machine. Interrupts (32-255) take the same path, so the breakpoint has a
# condition: gdb checks it on every interrupt, which costs a little time
# with the 100 Hz tick but keeps `continue` quiet. `p *tf` shows the frame;
# `bt` ends at isr_common (the CPU's frame has no unwind information), so
# `info symbol tf->rip` says where the exception happened.
break trap_dispatch if tf->vector < 32

# QEMU's TCG gdb stub implements breakpoints in the translator, not by
# writing int3 into memory, so they hold although the kernel is not loaded
# yet: we attach at the reset vector, before the firmware runs. Connecting
# comes last so that, if QEMU is not listening, everything above is still
# defined: start `make debug`, then `target remote :1234` by hand.
eval "target remote 127.0.0.1:%d", $gdb_port
