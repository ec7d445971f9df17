//! A tiny ISO-BMFF box writer: nested boxes with 32-bit sizes patched on close.
//! Used for the media segments (moof/mdat) and the export's moov.

pub(crate) struct BoxWriter {
    pub buf: Vec<u8>,
    open: Vec<usize>,
}

impl BoxWriter {
    pub fn with_capacity(n: usize) -> Self {
        BoxWriter { buf: Vec::with_capacity(n), open: Vec::new() }
    }

    pub fn begin(&mut self, typ: &[u8; 4]) {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(typ);
    }

    pub fn begin_full(&mut self, typ: &[u8; 4], version: u8, flags: u32) {
        self.begin(typ);
        self.u32(((version as u32) << 24) | (flags & 0x00ff_ffff));
    }

    /// Closes the innermost open box. Boxes above 4 GiB are not produced here
    /// (mdat headers are written separately with a 64-bit size).
    pub fn end(&mut self) {
        if let Some(start) = self.open.pop() {
            let size = (self.buf.len() - start) as u32;
            self.buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
        }
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}
