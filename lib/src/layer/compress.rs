//! Layer compression, told by the first bytes of the blob and never by a
//! file name or a media type a registry may have got wrong.

use std::io::{self, Read};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression of a blob from its first bytes (4 are enough): gzip
/// `1f 8b` (RFC 1952), zstd `28 b5 2f fd` (RFC 8878); anything else is
/// taken as a plain tar.
pub fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// A reader of the uncompressed stream. Gzip reads every member (pigz and
/// some registries write several); zstd reads every frame, which also
/// covers zstd:chunked layers, sold under the same `+zstd` media type.
pub fn decoder<'a>(r: impl Read + 'a, c: Compression) -> Result<Box<dyn Read + 'a>> {
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(r)
                .map_err(|e: io::Error| Error::sys("start zstd decoder", e))?,
        ),
    })
}

/// The OCI media type of a layer with that compression.
pub fn media_type(c: Compression) -> &'static str {
    match c {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}
