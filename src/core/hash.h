/*
 * cohive's own hashing: stable across interpreters, processes and runs (no
 * per-process seed), with dict semantics for numbers -- 1, 1.0, True and
 * (1+0j) hash alike because they are equal keys.
 */
#ifndef COHIVE_CORE_HASH_H
#define COHIVE_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Domain seeds keep equal bytes of different types apart ('a' != b'a'). */
#define CH_SEED_STR UINT64_C(0x6a09e667f3bcc908)
#define CH_SEED_BYTES UINT64_C(0xbb67ae8584caa73b)
#define CH_SEED_NUM UINT64_C(0x3c6ef372fe94f82b)
#define CH_SEED_TUPLE UINT64_C(0xa54ff53a5f1d36f1)
#define CH_SEED_LIST UINT64_C(0x510e527fade682d1)
#define CH_SEED_SET UINT64_C(0x9b05688c2b3e6c1f)
#define CH_SEED_MAP UINT64_C(0x1f83d9abfb41bd6b)
#define CH_SEED_CONST UINT64_C(0x5be0cd19137e2179)
#define CH_SEED_TIME UINT64_C(0xcbbb9d5dc1059ed8)
#define CH_SEED_DECIMAL UINT64_C(0x629a292a367cd507)
#define CH_SEED_UUID UINT64_C(0x9159015a3070dd17)
#define CH_SEED_INSTANCE UINT64_C(0x152fecd8f70e5939)

/* Scrambles all 64 bits so that every 5-bit slice of a hash is usable. */
uint64_t ch_mix64(uint64_t x);

uint64_t ch_hash_bytes(const void *data, size_t len, uint64_t seed);

/* Numbers reduce to their value modulo the Mersenne prime 2**61 - 1, the
 * same residue for an int and a float of equal value; ch_hash_number then
 * scrambles the residue. */
uint64_t ch_numres_int64(int64_t v);
uint64_t ch_numres_double(double d);
uint64_t ch_numres_bigint(const unsigned char *le_twos_complement, size_t len);
uint64_t ch_hash_number(uint64_t residue);
uint64_t ch_hash_complex(double real, double imag); /* imag == 0 hashes as real */

/* Order-dependent sequence hashing: fold items in, then finish. */
static inline uint64_t ch_hash_seq_step(uint64_t h, uint64_t item)
{
    return ch_mix64(h ^ (item + UINT64_C(0x9e3779b97f4a7c15) + (h << 6)));
}

/* Test hook: ch_hash (value.h) and-s every key hash with this mask (all ones
 * normally), so a test can force colliding keys. Never change it while Maps
 * exist. */
extern uint64_t ch_hash_mask;

#endif
