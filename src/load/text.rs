//! Turning a file's bytes into text. YAML 1.2 (§5.2) has readers accept
//! UTF-8, UTF-16 and UTF-32, the latter two marked by a byte-order mark;
//! everything downstream (the YAML readers, spans, snippets) works on one
//! UTF-8 `String`, so other encodings are decoded here, before anything
//! else sees the file, and positions then count in the decoded text.

/// Why a file's bytes are not text: where decoding stopped.
#[derive(Debug, PartialEq, Eq)]
pub struct Undecodable {
    /// The encoding the file claims (by its byte-order mark) or is assumed.
    pub encoding: &'static str,
    /// The text decoded before the first bad byte, so that the bad byte
    /// can be placed by line and column like any other finding.
    pub prefix: String,
    /// The offset of the first bad byte in the file as stored.
    pub offset: usize,
}

/// Decodes a file: UTF-16 or UTF-32 when it opens with that byte-order
/// mark, UTF-8 otherwise; a byte-order mark is dropped, since it is not
/// content and YAML readers would see it as a stray character.
pub fn decode(bytes: Vec<u8>) -> Result<String, Undecodable> {
    // UTF-32LE's mark begins with UTF-16LE's, so it is tested first.
    match bytes.as_slice() {
        [0xFF, 0xFE, 0, 0, ..] => utf32(&bytes, "UTF-32LE", u32::from_le_bytes),
        [0, 0, 0xFE, 0xFF, ..] => utf32(&bytes, "UTF-32BE", u32::from_be_bytes),
        [0xFF, 0xFE, ..] => utf16(&bytes, "UTF-16LE", u16::from_le_bytes),
        [0xFE, 0xFF, ..] => utf16(&bytes, "UTF-16BE", u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, ..] => utf8(bytes, 3),
        _ => utf8(bytes, 0),
    }
}

/// UTF-8 after a `skip`-byte mark.
fn utf8(mut bytes: Vec<u8>, skip: usize) -> Result<String, Undecodable> {
    bytes.drain(..skip);
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let mut bytes = e.into_bytes();
        bytes.truncate(valid);
        Undecodable {
            encoding: "UTF-8",
            // Valid by construction; the fallback only keeps us panic-free.
            prefix: String::from_utf8(bytes).unwrap_or_default(),
            offset: skip + valid,
        }
    })
}

/// UTF-16 after its 2-byte mark; an unpaired surrogate or an odd last byte
/// is where decoding stops.
fn utf16(
    bytes: &[u8],
    encoding: &'static str,
    unit: fn([u8; 2]) -> u16,
) -> Result<String, Undecodable> {
    let body = &bytes[2..];
    let units = body.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text = String::with_capacity(body.len() / 2);
    let mut at = 2;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                text.push(c);
                at += 2 * c.len_utf16();
            }
            Err(_) => {
                return Err(Undecodable {
                    encoding,
                    prefix: text,
                    offset: at,
                });
            }
        }
    }
    if !body.len().is_multiple_of(2) {
        return Err(Undecodable {
            encoding,
            prefix: text,
            offset: at,
        });
    }
    Ok(text)
}

/// UTF-32 after its 4-byte mark; a surrogate, a value past U+10FFFF or a
/// short last unit is where decoding stops.
fn utf32(
    bytes: &[u8],
    encoding: &'static str,
    unit: fn([u8; 4]) -> u32,
) -> Result<String, Undecodable> {
    let body = &bytes[4..];
    let mut text = String::with_capacity(body.len() / 4);
    let mut at = 4;
    for c in body.chunks_exact(4) {
        match char::from_u32(unit([c[0], c[1], c[2], c[3]])) {
            Some(c) => text.push(c),
            None => {
                return Err(Undecodable {
                    encoding,
                    prefix: text,
                    offset: at,
                });
            }
        }
        at += 4;
    }
    if !body.len().is_multiple_of(4) {
        return Err(Undecodable {
            encoding,
            prefix: text,
            offset: at,
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn utf16be(s: &str) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF];
        out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        out
    }

    fn utf32(s: &str, le: bool) -> Vec<u8> {
        let mut out = if le {
            vec![0xFF, 0xFE, 0, 0]
        } else {
            vec![0, 0, 0xFE, 0xFF]
        };
        for c in s.chars() {
            let u = u32::from(c);
            out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    #[test]
    fn every_yaml_encoding_decodes_to_the_same_text() {
        let text = "kind: person\nid: ana\ndisplay_name: Ana Müller 𝄞\n";
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(text.as_bytes());
        for bytes in [
            text.as_bytes().to_vec(),
            bom8,
            utf16le(text),
            utf16be(text),
            utf32(text, true),
            utf32(text, false),
        ] {
            assert_eq!(decode(bytes).as_deref(), Ok(text));
        }
    }

    #[test]
    fn bad_bytes_are_placed_after_the_text_before_them() {
        let e = decode(b"id: a\nname: \xFFx".to_vec()).expect_err("bad UTF-8");
        assert_eq!(
            (e.encoding, e.prefix.as_str(), e.offset),
            ("UTF-8", "id: a\nname: ", 12)
        );

        let mut bytes = utf16le("id: é\n");
        bytes.extend(0xDC00u16.to_le_bytes()); // a lone low surrogate
        let e = decode(bytes).expect_err("bad UTF-16");
        assert_eq!(
            (e.encoding, e.prefix.as_str(), e.offset),
            ("UTF-16LE", "id: é\n", 14)
        );

        let mut bytes = utf16be("a𝄞");
        bytes.push(0x41); // an odd last byte
        let e = decode(bytes).expect_err("odd UTF-16");
        assert_eq!((e.prefix.as_str(), e.offset), ("a𝄞", 8));

        let mut bytes = utf32("ab", false);
        bytes.extend(0x11_0000u32.to_be_bytes());
        let e = decode(bytes).expect_err("bad UTF-32");
        assert_eq!(
            (e.encoding, e.prefix.as_str(), e.offset),
            ("UTF-32BE", "ab", 12)
        );
    }
}
