//! A compact binary form of a replay for audit storage: a version byte, then for each input
//! the tick delta from the previous input and the value, both as LEB128 varints. A typical
//! input takes 3 to 4 bytes instead of about 12 as JSON.

use crate::Input;

const VERSION: u8 = 1;

/// Why packed bytes could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpackError {
    UnknownVersion(u8),
    Truncated,
    Overflow,
}

impl std::fmt::Display for UnpackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownVersion(v) => write!(f, "unknown packed replay version {v}"),
            Self::Truncated => f.write_str("the packed replay ends in the middle of an input"),
            Self::Overflow => f.write_str("a packed replay number does not fit in 32 bits"),
        }
    }
}

impl std::error::Error for UnpackError {}

fn put(out: &mut Vec<u8>, mut n: u32) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn take(bytes: &[u8], at: &mut usize) -> Result<u32, UnpackError> {
    let mut n: u64 = 0;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(*at).ok_or(UnpackError::Truncated)?;
        *at += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return u32::try_from(n).map_err(|_| UnpackError::Overflow);
        }
    }
    Err(UnpackError::Overflow)
}

/// Pack inputs (ticks must be non-decreasing, as recorded replays are).
pub fn pack(inputs: &[Input]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + inputs.len() * 4);
    out.push(VERSION);
    let mut prev = 0u32;
    for i in inputs {
        put(&mut out, i.tick.wrapping_sub(prev));
        put(&mut out, i.value);
        prev = i.tick;
    }
    out
}

pub fn unpack(bytes: &[u8]) -> Result<Vec<Input>, UnpackError> {
    match bytes.first() {
        Some(&VERSION) => {}
        Some(&v) => return Err(UnpackError::UnknownVersion(v)),
        None => return Err(UnpackError::Truncated),
    }
    let mut at = 1;
    let mut prev = 0u32;
    let mut out = Vec::new();
    while at < bytes.len() {
        let tick = prev.wrapping_add(take(bytes, &mut at)?);
        let value = take(bytes, &mut at)?;
        out.push(Input { tick, value });
        prev = tick;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_and_is_compact() {
        let (inputs, _) = crate::egg_catcher::bot::play(&crate::rng::derived_seeds(7), 80, 20_000);
        let packed = pack(&inputs);
        assert_eq!(unpack(&packed).unwrap(), inputs);
        let json = serde_json::to_vec(&inputs).unwrap();
        assert!(
            packed.len() * 2 < json.len(),
            "{} vs {}",
            packed.len(),
            json.len()
        );
        let edge = [
            Input { tick: 0, value: 0 },
            Input {
                tick: u32::MAX,
                value: u32::MAX,
            },
        ];
        assert_eq!(unpack(&pack(&edge)).unwrap(), edge);
        assert_eq!(unpack(&pack(&[])).unwrap(), vec![]);
    }

    #[test]
    fn damaged_bytes_are_refused() {
        assert_eq!(unpack(&[]), Err(UnpackError::Truncated));
        assert_eq!(unpack(&[9]), Err(UnpackError::UnknownVersion(9)));
        assert_eq!(unpack(&[1, 0x85]), Err(UnpackError::Truncated));
        assert_eq!(unpack(&[1, 5]), Err(UnpackError::Truncated));
        assert_eq!(
            unpack(&[1, 0xff, 0xff, 0xff, 0xff, 0x7f, 0]),
            Err(UnpackError::Overflow)
        );
    }
}
