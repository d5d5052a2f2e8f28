// Guest memory handed to the host.
//
// Envoy returns every variable-size value (buffers, header maps, properties, shared data) by calling
// the module's proxy_on_memory_allocate(size), copying the bytes there and writing the pointer and
// size into out-parameters. We allocate that memory as a managed ArrayBuffer and *pin* it, so the
// incremental GC can neither free nor reuse it while the host still writes into it (the host may run
// further allocations, and thus GC steps, before the call returns). `takeBuffer` hands the block
// back to the GC: it takes a managed reference first (a root on the shadow stack), then unpins.
// The result is zero-copy: the bytes the host wrote are the ArrayBuffer the caller receives.

// @ts-ignore: decorator
@inline const OUT_ALIGN: usize = 8;

/**
 * Out-parameter slots for host calls. Host calls never re-enter the guest except through
 * proxy_on_memory_allocate, which does not touch these slots, so one static area is enough.
 */
export const OUT: usize = memory.data(32, OUT_ALIGN);
/** Slot for a returned data pointer (u32). */
export const OUT_PTR: usize = OUT;
/** Slot for a returned size (u32). */
export const OUT_SIZE: usize = OUT + 4;
/** Slot for a returned u32 (CAS, flags, ids, level). */
export const OUT_U32: usize = OUT + 8;
/** Slot for a returned u64 (time, metric value); 8-byte aligned. */
export const OUT_U64: usize = OUT + 16;

/** Clears the out-parameter slots so a host that writes nothing is read as "no value". */
// @ts-ignore: decorator
@inline export function clearOut(): void {
  store<u64>(OUT, 0);
  store<u64>(OUT + 8, 0);
  store<u64>(OUT + 16, 0);
}

/**
 * Exported allocator the host calls to return values (spec: "Memory management").
 * The block stays pinned until `takeBuffer` adopts it.
 */
export function proxy_on_memory_allocate(size: usize): usize {
  const ptr = __new(size, idof<ArrayBuffer>());
  // @ts-ignore: runtime builtin (itcms)
  __pin(ptr);
  return ptr;
}

/**
 * Adopts a block the host returned through proxy_on_memory_allocate (pointer and size from the
 * out-parameter slots). Returns an empty buffer when the host returned nothing (pointer 0,
 * size 0), which Envoy does for every empty value.
 */
export function takeBuffer(ptr: usize, size: usize): ArrayBuffer {
  if (ptr == 0) return new ArrayBuffer(0);
  const buffer = changetype<ArrayBuffer>(ptr);
  // @ts-ignore: runtime builtin (itcms)
  __unpin(ptr);
  if (<usize>buffer.byteLength == size) return buffer;
  // A host that wrote fewer bytes than it allocated: keep only what it reported.
  return buffer.slice(0, <i32>size);
}

/** Adopts the block described by OUT_PTR / OUT_SIZE. */
export function takeOut(): ArrayBuffer {
  return takeBuffer(<usize>load<u32>(OUT_PTR), <usize>load<u32>(OUT_SIZE));
}
