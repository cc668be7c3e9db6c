//! A short byte string kept inline: user names, addresses and most other values the
//! engine and the parsers remember fit in a few dozen bytes, and holding them inline
//! costs no allocation (remembering one per event was hundreds of thousands of small
//! allocations per million lines). Longer ones go to the heap.

/// Bytes stored inline when at most `N` long (`N` ≤ 255), boxed otherwise.
#[derive(Clone, PartialEq, Eq)]
pub enum SmallBytes<const N: usize> {
    Inline { len: u8, buf: [u8; N] },
    Heap(Box<[u8]>),
}

impl<const N: usize> SmallBytes<N> {
    pub fn new(v: &[u8]) -> Self {
        match u8::try_from(v.len()) {
            Ok(len) if v.len() <= N => {
                let mut buf = [0u8; N];
                buf[..v.len()].copy_from_slice(v);
                SmallBytes::Inline { len, buf }
            }
            _ => SmallBytes::Heap(v.into()),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => &buf[..usize::from(*len)],
            SmallBytes::Heap(b) => b,
        }
    }
}

impl<const N: usize> std::fmt::Debug for SmallBytes<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::SmallBytes;

    #[test]
    fn short_values_stay_inline_and_long_ones_round_trip() {
        let short = SmallBytes::<22>::new(b"203.0.113.7");
        assert!(matches!(short, SmallBytes::Inline { .. }));
        assert_eq!(short.as_bytes(), b"203.0.113.7");
        let exact = SmallBytes::<4>::new(b"abcd");
        assert!(matches!(exact, SmallBytes::Inline { .. }));
        let long = SmallBytes::<4>::new(b"abcde");
        assert!(matches!(long, SmallBytes::Heap(_)));
        assert_eq!(long.as_bytes(), b"abcde");
        assert_eq!(SmallBytes::<4>::new(b"").as_bytes(), b"");
        // Equal bytes are equal values, whichever way they are held.
        assert_eq!(SmallBytes::<22>::new(b"x"), SmallBytes::<22>::new(b"x"));
        assert_ne!(SmallBytes::<22>::new(b"x"), SmallBytes::<22>::new(b"x\0"));
    }
}
