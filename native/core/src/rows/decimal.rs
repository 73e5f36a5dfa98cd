//! Exact decimal text from Connect's Decimal encoding: the unscaled value as big-endian two's
//! complement bytes of any length (`BigInteger.toByteArray()`) and a scale. Converted by
//! repeated division of base-2^32 limbs by 10^9, so any size is exact (no f64 rounding).

/// Largest |scale| accepted; protects against absurd allocations from hostile input.
pub const MAX_SCALE: i32 = 10_000;

/// Decimal text, e.g. (`[0x04,0xd2]`, 2) → `"12.34"`; `None` if |scale| > [`MAX_SCALE`].
pub fn decimal_string(unscaled: &[u8], scale: i32) -> Option<String> {
    if scale.unsigned_abs() > MAX_SCALE as u32 {
        return None;
    }
    let negative = unscaled.first().is_some_and(|b| b & 0x80 != 0);
    let mut digits = if unscaled.len() <= 16 { small_magnitude_digits(unscaled, negative) } else { big_magnitude_digits(unscaled, negative) };
    if scale > 0 {
        let s = scale as usize;
        if digits.len() <= s {
            digits = "0".repeat(s + 1 - digits.len()) + &digits;
        }
        digits.insert(digits.len() - s, '.');
    } else if scale < 0 && digits != "0" {
        digits.push_str(&"0".repeat(scale.unsigned_abs() as usize));
    }
    let is_zero = digits.bytes().all(|b| b == b'0' || b == b'.');
    Some(if negative && !is_zero { format!("-{}", digits) } else { digits })
}

/// Decimal digits of the magnitude of a two's complement value of at most 16 bytes (every
/// DECIMAL StarRocks has, up to 38 digits): an i128, printed by itoa.
fn small_magnitude_digits(unscaled: &[u8], negative: bool) -> String {
    let mut be = [if negative { 0xff } else { 0 }; 16];
    be[16 - unscaled.len()..].copy_from_slice(unscaled);
    itoa::Buffer::new().format(i128::from_be_bytes(be).unsigned_abs()).to_string()
}

/// Decimal digits of the magnitude of a two's complement value of any length.
fn big_magnitude_digits(unscaled: &[u8], negative: bool) -> String {
    let mut mag: Vec<u8> = unscaled.to_vec();
    if negative {
        // two's complement magnitude: invert and add one
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    magnitude_digits(&mag)
}

/// Decimal digits of an unsigned big-endian magnitude.
fn magnitude_digits(be: &[u8]) -> String {
    // big-endian u32 limbs
    let mut limbs: Vec<u32> = Vec::with_capacity(be.len() / 4 + 1);
    let pad = (4 - be.len() % 4) % 4;
    let mut padded = vec![0u8; pad];
    padded.extend_from_slice(be);
    for c in padded.chunks(4) {
        limbs.push(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let mut chunks: Vec<u32> = Vec::new(); // base 1e9, least significant first
    loop {
        while limbs.first() == Some(&0) {
            limbs.remove(0);
        }
        if limbs.is_empty() {
            break;
        }
        let mut rem: u64 = 0;
        for l in limbs.iter_mut() {
            let cur = (rem << 32) | *l as u64;
            *l = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
    }
    match chunks.split_last() {
        None => "0".to_string(),
        Some((top, rest)) => {
            let mut s = top.to_string();
            for c in rest.iter().rev() {
                s.push_str(&format!("{:09}", c));
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(v: i128) -> Vec<u8> {
        // minimal two's complement like BigInteger.toByteArray()
        let b = v.to_be_bytes();
        let mut i = 0;
        while i < 15 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
            i += 1;
        }
        b[i..].to_vec()
    }

    #[test]
    fn scales_signs_and_zeros() {
        assert_eq!(decimal_string(&be(12340), 3).unwrap(), "12.340");
        assert_eq!(decimal_string(&be(-5), 3).unwrap(), "-0.005");
        assert_eq!(decimal_string(&be(0), 0).unwrap(), "0");
        assert_eq!(decimal_string(&[], 2).unwrap(), "0.00");
        assert_eq!(decimal_string(&be(-128), 0).unwrap(), "-128");
        assert_eq!(decimal_string(&be(255), 0).unwrap(), "255");
        assert_eq!(decimal_string(&be(12), -2).unwrap(), "1200");
        assert_eq!(decimal_string(&be(1_234_567_890_123_456_789_012), 2).unwrap(), "12345678901234567890.12");
        assert_eq!(decimal_string(&be(i128::MIN), 0).unwrap(), i128::MIN.to_string());
        assert!(decimal_string(&[1], i32::MAX).is_none());
    }

    #[test]
    fn both_paths_print_the_same_digits() {
        for v in [0i128, 1, -1, 127, -128, 255, -256, 99_999, i64::MIN as i128, i64::MAX as i128 * 7, i128::MAX, i128::MIN + 1] {
            let b = be(v);
            let neg = v < 0;
            assert_eq!(small_magnitude_digits(&b, neg), big_magnitude_digits(&b, neg), "{}", v);
            assert_eq!(small_magnitude_digits(&b, neg), v.unsigned_abs().to_string());
        }
    }

    #[test]
    fn beyond_128_bits() {
        // 2^200 = 1606938044258990275541962092341162602522202993782792835301376
        let mut b = vec![0u8; 26];
        b[0] = 1;
        assert_eq!(
            decimal_string(&b, 0).unwrap(),
            "1606938044258990275541962092341162602522202993782792835301376"
        );
    }
}
