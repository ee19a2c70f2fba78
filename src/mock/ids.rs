//! Seeded id generator: the same seed and the same request sequence give the
//! same ids, so a seeded mock answers byte for byte the same.
//!
//! splitmix64 is enough here: ids need to be unique and reproducible, not
//! unguessable (the mock holds no secrets worth guessing).

use std::hash::{BuildHasher, Hasher};

/// Every id the mock hands out: session ids, authorization tokens, order ids,
/// correlation ids, capture, refund, transaction, customer-token and event
/// ids, and Klarna references.
#[derive(Debug, Clone)]
pub struct IdGenerator {
    state: u64,
}

impl IdGenerator {
    /// A generator whose sequence is fixed by `seed`.
    pub fn seeded(seed: u64) -> Self {
        IdGenerator { state: seed }
    }

    /// A seed from the process's entropy (the std hasher's random keys) and the time,
    /// for a mock started without `--seed`.
    pub fn entropy_seed() -> u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        h.write_u64(nanos);
        h.finish()
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// An RFC 4122 version 4 UUID (the shape of every Klarna id, docs/klarna.md §5.6).
    pub fn uuid(&mut self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A short customer-facing code of 8 upper-case letters and digits, like
    /// `K4MADNY2` (OM `klarna_reference`, docs/klarna.md §5.6, §13.4).
    pub fn klarna_reference(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut bits = self.next_u64();
        (0..8)
            .map(|_| {
                let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char;
                bits /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }
}

/// The splitmix64 finaliser; also used to derive stable bytes from an id.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids() {
        let mut a = IdGenerator::seeded(7);
        let mut b = IdGenerator::seeded(7);
        for _ in 0..100 {
            assert_eq!(a.uuid(), b.uuid());
        }
        assert_ne!(IdGenerator::seeded(8).uuid(), IdGenerator::seeded(7).uuid());
    }

    #[test]
    fn ids_are_v4_uuids() {
        let mut g = IdGenerator::seeded(1);
        let id = g.uuid();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        let r = g.klarna_reference();
        assert_eq!(r.len(), 8);
        assert!(
            r.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
    }
}
