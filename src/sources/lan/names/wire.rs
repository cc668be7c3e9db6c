//! The DNS message format (RFC 1035 §4) as reverse DNS and mDNS use it: building a
//! one-question query, and reading a PTR answer out of whatever comes back. Every byte
//! read is bounds-checked; a name's compression pointers must each point before the
//! last one followed (so following them always ends) and a name may not exceed 255 bytes
//! on the wire. This module owns the byte layout only: which name to ask for, whom to ask
//! and what makes a name acceptable belong to its callers.

use std::collections::HashMap;

/// RFC 1035 §3.2.2.
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_PTR: u16 = 12;
/// RFC 1035 §3.2.4.
pub const CLASS_IN: u16 = 1;
/// RCODE 3: the name does not exist.
const RCODE_NXDOMAIN: u16 = 3;
/// The longest name on the wire, length bytes included (RFC 1035 §2.3.4).
const MAX_WIRE_NAME: usize = 255;
/// More compression pointers than this in one name is not a name.
const MAX_POINTERS: usize = 64;
/// CNAME hops followed from the question to its PTR (RFC 2317 delegation needs one).
const MAX_CNAME_HOPS: usize = 8;

/// A domain name as labels of raw bytes, most specific first; `[]` is the root.
pub type Labels = Vec<Vec<u8>>;

/// A query with one question, `rd` asking the server to recurse (RFC 1035 §4.1.1).
pub fn query(id: u16, rd: bool, qname: &[Vec<u8>], qtype: u16) -> Vec<u8> {
    let mut p = Vec::with_capacity(18 + qname.iter().map(|l| l.len() + 1).sum::<usize>());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&(if rd { 0x0100u16 } else { 0 }).to_be_bytes());
    for count in [1u16, 0, 0, 0] {
        p.extend_from_slice(&count.to_be_bytes());
    }
    for label in qname {
        // The caller's names are ours (reverse names), always 1..=63 bytes a label.
        p.push(label.len().min(63) as u8);
        p.extend_from_slice(&label[..label.len().min(63)]);
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&CLASS_IN.to_be_bytes());
    p
}

/// A bounds-checked cursor over a message.
pub struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(msg: &'a [u8]) -> Reader<'a> {
        Reader { msg, pos: 0 }
    }

    pub fn at(msg: &'a [u8], pos: usize) -> Reader<'a> {
        Reader { msg, pos }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.msg.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        let b = self.bytes(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A possibly compressed name (RFC 1035 §4.1.4). The cursor ends after the name's
    /// bytes at this position (after its first pointer, if any).
    pub fn name(&mut self) -> Option<Labels> {
        let mut labels = Labels::new();
        let mut wire_len = 1; // the root's zero byte
        let mut pos = self.pos;
        // Where reading resumes here: set at the first pointer.
        let mut resume = None;
        // Every pointer must point before this: the start of the bytes read so far.
        let mut floor = self.pos;
        let mut pointers = 0;
        loop {
            let len = *self.msg.get(pos)? as usize;
            match len & 0xC0 {
                0x00 if len == 0 => {
                    self.pos = resume.unwrap_or(pos + 1);
                    return Some(labels);
                }
                0x00 => {
                    wire_len += len + 1;
                    if wire_len > MAX_WIRE_NAME {
                        return None;
                    }
                    labels.push(self.msg.get(pos + 1..pos + 1 + len)?.to_vec());
                    pos += 1 + len;
                }
                0xC0 => {
                    let low = *self.msg.get(pos + 1)? as usize;
                    let target = ((len & 0x3F) << 8) | low;
                    pointers += 1;
                    if target >= floor || pointers > MAX_POINTERS {
                        return None;
                    }
                    resume.get_or_insert(pos + 2);
                    floor = target;
                    pos = target;
                }
                // 0x40 and 0x80: extended and reserved label types (RFC 6891 §5).
                _ => return None,
            }
        }
    }
}

/// Whether two names are the same, ignoring ASCII case (RFC 4343).
pub fn same_name(a: &[Vec<u8>], b: &[Vec<u8>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// Whether a response must repeat the question: DNS always does (and it is checked);
/// an mDNS responder may leave it out (RFC 6762 §6.7 asks for it, not all do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    Required,
    Optional,
}

/// What a well-formed response to a PTR query says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PtrAnswer {
    /// The names the question's name points to, in answer order (not yet vetted).
    Names(Vec<Labels>),
    /// The name does not exist, or has no PTR: settled, nameless.
    None,
    /// The server failed or refused (SERVFAIL, REFUSED …): another server may know.
    Failed,
}

/// The query a reply answers: the transaction id in its first two bytes (the same place
/// in DNS, mDNS and NetBIOS name service headers) and the target it was asked for.
/// `None` for a reply too short to carry an id, or with an id we did not send.
pub fn asked(msg: &[u8], by_id: &HashMap<u16, usize>) -> Option<(u16, usize)> {
    let id = u16::from_be_bytes([*msg.first()?, *msg.get(1)?]);
    Some((id, *by_id.get(&id)?))
}

/// The header of a response (RFC 1035 §4.1.1) to query `id`, read from `r`: its rcode
/// and its question and answer counts. `None` when it is not a response to that query
/// (another id, a query, another opcode) or is cut short.
pub fn read_response_header(r: &mut Reader, id: u16) -> Option<(u16, u16, u16)> {
    if r.u16()? != id {
        return None;
    }
    let flags = r.u16()?;
    let (response, opcode, rcode) = (flags & 0x8000 != 0, (flags >> 11) & 0xF, flags & 0xF);
    if !response || opcode != 0 {
        return None;
    }
    let (qd, an) = (r.u16()?, r.u16()?);
    // The authority and additional counts: not needed.
    r.bytes(4)?;
    Some((rcode, qd, an))
}

/// Reads a response to the PTR query `id` for `qname`: `None` when the message is not
/// that response or is malformed anywhere (a message is used whole or not at all).
pub fn read_ptr_response(
    msg: &[u8],
    id: u16,
    qname: &[Vec<u8>],
    question: Question,
) -> Option<PtrAnswer> {
    let mut r = Reader::new(msg);
    let (rcode, qd, an) = read_response_header(&mut r, id)?;
    match (qd, question) {
        (1, _) => {
            let asked = r.name()?;
            let (qtype, qclass) = (r.u16()?, r.u16()?);
            // mDNS may set the top bit of the class (unicast-response, RFC 6762 §5.4).
            if !same_name(&asked, qname) || qtype != TYPE_PTR || qclass & 0x7FFF != CLASS_IN {
                return None;
            }
        }
        (0, Question::Optional) => {}
        _ => return None,
    }
    match rcode {
        0 => {}
        RCODE_NXDOMAIN => return Some(PtrAnswer::None),
        _ => return Some(PtrAnswer::Failed),
    }
    // Answer records (RFC 1035 §4.1.3); the authority and additional sections are not
    // needed. Each record takes at least 11 bytes, so a lying count ends at the buffer.
    let mut records: Vec<(Labels, u16, Labels)> = Vec::new();
    for _ in 0..an {
        let owner = r.name()?;
        let (rtype, class, _ttl, rdlen) = (r.u16()?, r.u16()?, r.u32()?, r.u16()? as usize);
        let start = r.pos();
        r.bytes(rdlen)?;
        if class & 0x7FFF != CLASS_IN || !(rtype == TYPE_PTR || rtype == TYPE_CNAME) {
            continue;
        }
        // The target may point back into the message, so it is read in place; it must
        // end exactly where the record's data does.
        let mut t = Reader::at(msg, start);
        let target = t.name()?;
        if t.pos() != start + rdlen {
            return None;
        }
        records.push((owner, rtype, target));
    }
    let mut current: &[Vec<u8>] = qname;
    for _ in 0..=MAX_CNAME_HOPS {
        let names: Vec<Labels> = records
            .iter()
            .filter(|(owner, t, _)| *t == TYPE_PTR && same_name(owner, current))
            .map(|(_, _, target)| target.clone())
            .collect();
        if !names.is_empty() {
            return Some(PtrAnswer::Names(names));
        }
        match records
            .iter()
            .find(|(owner, t, _)| *t == TYPE_CNAME && same_name(owner, current))
        {
            Some((_, _, alias)) => current = alias,
            None => break,
        }
    }
    Some(PtrAnswer::None)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    #[test]
    fn a_reply_is_routed_by_its_transaction_id() {
        let by_id = HashMap::from([(0x1234u16, 7usize)]);
        assert_eq!(asked(&[0x12, 0x34, 0x81, 0x80], &by_id), Some((0x1234, 7)));
        assert_eq!(
            asked(&[0x12, 0x35, 0x81, 0x80], &by_id),
            None,
            "an id we never sent"
        );
        assert_eq!(asked(&[0x12], &by_id), None, "too short for an id");
    }

    pub fn labels(name: &str) -> Labels {
        name.trim_end_matches('.')
            .split('.')
            .filter(|l| !l.is_empty())
            .map(|l| l.as_bytes().to_vec())
            .collect()
    }

    /// `name` in wire form, uncompressed.
    pub fn wire_name(name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for l in labels(name) {
            out.push(l.len() as u8);
            out.extend_from_slice(&l);
        }
        out.push(0);
        out
    }

    /// A response to `query` (its header and question copied) with `answers` records,
    /// each `(owner wire bytes, type, rdata)`.
    pub fn response(query: &[u8], rcode: u16, answers: &[(Vec<u8>, u16, Vec<u8>)]) -> Vec<u8> {
        let mut p = query.to_vec();
        let flags = 0x8400 | rcode;
        p[2..4].copy_from_slice(&flags.to_be_bytes());
        p[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
        for (owner, rtype, rdata) in answers {
            p.extend_from_slice(owner);
            p.extend_from_slice(&rtype.to_be_bytes());
            p.extend_from_slice(&CLASS_IN.to_be_bytes());
            p.extend_from_slice(&300u32.to_be_bytes());
            p.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            p.extend_from_slice(rdata);
        }
        p
    }

    const Q: &str = "10.100.51.198.in-addr.arpa";

    fn names(a: Option<PtrAnswer>) -> Vec<String> {
        match a {
            Some(PtrAnswer::Names(n)) => n
                .iter()
                .map(|l| {
                    l.iter()
                        .map(|l| String::from_utf8_lossy(l).into_owned())
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect(),
            other => panic!("no names: {other:?}"),
        }
    }

    #[test]
    fn a_query_has_one_question_in_wire_form() {
        let q = query(0xBEEF, true, &labels(Q), TYPE_PTR);
        assert_eq!(&q[..12], &[0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..q.len() - 4], wire_name(Q).as_slice());
        assert_eq!(&q[q.len() - 4..], &[0, 12, 0, 1]);
    }

    #[test]
    fn a_ptr_answer_is_read_with_a_pointer_to_the_question() {
        let q = query(7, true, &labels(Q), TYPE_PTR);
        // The owner is a pointer to the question's name at offset 12.
        let resp = response(
            &q,
            0,
            &[(vec![0xC0, 12], TYPE_PTR, wire_name("nas.example."))],
        );
        let a = read_ptr_response(&resp, 7, &labels(Q), Question::Required);
        assert_eq!(names(a), ["nas.example"]);
        // Case differs: still the same name.
        let upper = labels(&Q.to_uppercase());
        assert_eq!(
            names(read_ptr_response(&resp, 7, &upper, Question::Required)),
            ["nas.example"]
        );
    }

    #[test]
    fn a_compressed_target_points_into_the_question() {
        let q = query(7, true, &labels(Q), TYPE_PTR);
        // "host" then a pointer to "in-addr.arpa" inside the question (offset of the
        // label after "10", "100", "51", "198").
        let arpa = 12 + 3 + 4 + 3 + 4;
        let rdata = [&[4u8][..], b"host", &[0xC0, arpa as u8]].concat();
        let resp = response(&q, 0, &[(vec![0xC0, 12], TYPE_PTR, rdata)]);
        let a = read_ptr_response(&resp, 7, &labels(Q), Question::Required);
        assert_eq!(names(a), ["host.in-addr.arpa"]);
    }

    #[test]
    fn a_cname_is_followed_to_its_ptr() {
        let q = query(9, true, &labels(Q), TYPE_PTR);
        let alias = "10.0-25.100.51.198.in-addr.arpa";
        let resp = response(
            &q,
            0,
            &[
                (vec![0xC0, 12], TYPE_CNAME, wire_name(alias)),
                (wire_name(alias), TYPE_PTR, wire_name("cam.example")),
            ],
        );
        let a = read_ptr_response(&resp, 9, &labels(Q), Question::Required);
        assert_eq!(names(a), ["cam.example"]);
    }

    #[test]
    fn negative_and_failed_answers_are_told_apart() {
        let q = query(1, true, &labels(Q), TYPE_PTR);
        let r =
            |rcode| read_ptr_response(&response(&q, rcode, &[]), 1, &labels(Q), Question::Required);
        assert_eq!(r(0), Some(PtrAnswer::None));
        assert_eq!(r(3), Some(PtrAnswer::None));
        assert_eq!(r(2), Some(PtrAnswer::Failed));
        assert_eq!(r(5), Some(PtrAnswer::Failed));
        // A PTR for another name is not ours.
        let other = response(
            &q,
            0,
            &[(
                wire_name("11.100.51.198.in-addr.arpa"),
                TYPE_PTR,
                wire_name("x.example"),
            )],
        );
        assert_eq!(
            read_ptr_response(&other, 1, &labels(Q), Question::Required),
            Some(PtrAnswer::None)
        );
    }

    #[test]
    fn answers_to_other_questions_or_ids_are_not_ours() {
        let q = query(1, true, &labels(Q), TYPE_PTR);
        let resp = response(&q, 0, &[(vec![0xC0, 12], TYPE_PTR, wire_name("a.example"))]);
        assert_eq!(
            read_ptr_response(&resp, 2, &labels(Q), Question::Required),
            None
        );
        let other = labels("11.100.51.198.in-addr.arpa");
        assert_eq!(
            read_ptr_response(&resp, 1, &other, Question::Required),
            None
        );
        // The query itself (QR clear) is no answer.
        assert_eq!(
            read_ptr_response(&q, 1, &labels(Q), Question::Required),
            None
        );
        // Without its question: only where the question is optional (mDNS).
        let mut bare = resp[..12].to_vec();
        bare[4..6].copy_from_slice(&[0, 0]);
        bare.extend_from_slice(&wire_name(Q));
        let target = wire_name("pr.local");
        bare.extend_from_slice(&[0, 12, 0x80, 1, 0, 0, 0, 120, 0, target.len() as u8]);
        bare.extend_from_slice(&target);
        assert_eq!(
            read_ptr_response(&bare, 1, &labels(Q), Question::Required),
            None
        );
        assert_eq!(
            names(read_ptr_response(&bare, 1, &labels(Q), Question::Optional)),
            ["pr.local"]
        );
    }

    #[test]
    fn truncated_messages_are_rejected_at_every_length() {
        let q = query(3, true, &labels(Q), TYPE_PTR);
        let resp = response(
            &q,
            0,
            &[(vec![0xC0, 12], TYPE_PTR, wire_name("nas.example"))],
        );
        for cut in 0..resp.len() {
            assert_eq!(
                read_ptr_response(&resp[..cut], 3, &labels(Q), Question::Required),
                None,
                "cut at {cut}"
            );
        }
        // A record whose data length overstates its name.
        let mut long = response(
            &q,
            0,
            &[(vec![0xC0, 12], TYPE_PTR, wire_name("nas.example"))],
        );
        let n = long.len();
        long.push(0);
        let rdlen = n - (q.len() + 12);
        long[q.len() + 10..q.len() + 12].copy_from_slice(&((rdlen + 1) as u16).to_be_bytes());
        assert_eq!(
            read_ptr_response(&long, 3, &labels(Q), Question::Required),
            None
        );
    }

    #[test]
    fn looping_and_forward_pointers_end() {
        // A pointer to itself, one to a later byte, and two pointing at each other.
        for msg in [
            &[0xC0u8, 0][..],
            &[0xC0, 2, 0][..],
            &[1, b'a', 0xC0, 0][..],
            &[0xC0, 2, 0xC0, 0][..],
        ] {
            assert_eq!(Reader::new(msg).name(), None, "{msg:?}");
        }
        // A chain of backward pointers is fine.
        let msg = [1, b'a', 0, 1, b'b', 0xC0, 0, 0xC0, 3];
        let mut r = Reader::at(&msg, 7);
        assert_eq!(r.name(), Some(vec![b"b".to_vec(), b"a".to_vec()]));
        assert_eq!(r.pos(), 9);
    }

    #[test]
    fn names_longer_than_255_bytes_and_odd_label_types_are_rejected() {
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.push(0);
        assert_eq!(Reader::new(&long).name(), None);
        assert_eq!(Reader::new(&[0x40, 0]).name(), None);
        assert_eq!(Reader::new(&[0x80, 0]).name(), None);
    }
}
