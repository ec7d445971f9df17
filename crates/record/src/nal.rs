//! Annex-B byte-stream handling for H264/H265 access units: split on start codes
//! and re-emit as 4-byte length-prefixed NAL units (ISO/IEC 14496-15).

/// Splits an Annex-B access unit into NAL units (without start codes). Bytes
/// before the first start code are treated as one NAL unit (some senders omit the
/// leading start code). Empty NAL units are skipped.
pub(crate) fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let mut nals = Vec::new();
    let n = data.len();
    let mut i = 0;
    let mut start = 0;
    while i + 2 < n {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            let mut end = i;
            // A 4-byte start code (and trailing_zero_8bits) belongs to no NAL.
            while end > start && data[end - 1] == 0 {
                end -= 1;
            }
            if end > start {
                nals.push(&data[start..end]);
            }
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    if start < n {
        let mut end = n;
        while end > start && data[end - 1] == 0 {
            end -= 1;
        }
        if end > start {
            nals.push(&data[start..end]);
        }
    }
    nals
}

/// Appends `nal` to `out` with a 4-byte big-endian length prefix.
pub(crate) fn push_length_prefixed(out: &mut Vec<u8>, nal: &[u8]) {
    out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
    out.extend_from_slice(nal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let au = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 0];
        let nals = split_annexb(&au);
        assert_eq!(nals, vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4, 5][..]]);
    }

    #[test]
    fn no_start_code_is_one_nal_and_garbage_is_safe() {
        assert_eq!(split_annexb(&[0x41, 9, 9]), vec![&[0x41, 9, 9][..]]);
        assert!(split_annexb(&[]).is_empty());
        assert!(split_annexb(&[0, 0, 1]).is_empty());
        assert!(split_annexb(&[0, 0, 0, 0, 1, 0, 0, 1]).is_empty());
    }
}
