//! The server's codec (build.rs `codec_path`): prost's encoding, with a traced `Run` call's
//! decode and encode timed for its spans (issue 24).
//!
//! tonic decodes a request before the service's method runs and encodes the reply after the
//! method has returned, both in the codec, where no call's metadata is at hand. So the
//! generated server takes `Run`'s messages in wrappers (build.rs `extern_path`): the decoder
//! puts the clock readings around a request's decode into its [`RunCall`] (when tracing is
//! on: whether the call is traced is only known from its metadata, after the decode), and the
//! method hands a traced call's span to the encoder in its [`RunAnswer`], which records the
//! encode and then ends the span. Every other message goes through as prost's codec has it.
//! With tracing off, a `Run` decode costs one `OnceLock` read more than prost's and an encode
//! one `Option` check.

use std::marker::PhantomData;
use std::time::Instant;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType};
use prost::{DecodeError, Message};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

use super::observe::{self, TracedCall};
use super::pb::{
    DescribeReply, DescribeRequest, ResourcesReply, ResourcesRequest, RunReply, RunRequest,
};

/// The clock readings around a request's decode, and the bytes it decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) bytes: usize,
}

/// `hybridbench.v1.RunRequest` as the server decodes it: the message, and when tracing is on
/// the clock readings around its decode.
#[derive(Debug, Default)]
pub struct RunCall {
    pub request: RunRequest,
    pub(crate) decoded: Option<Decoded>,
}

impl From<RunRequest> for RunCall {
    fn from(request: RunRequest) -> Self {
        Self {
            request,
            decoded: None,
        }
    }
}

/// `hybridbench.v1.RunReply` as the server encodes it: the message, and a traced call's span,
/// which the encoder ends after recording the encode.
#[derive(Debug, Default)]
pub struct RunAnswer {
    pub reply: RunReply,
    pub(crate) call: Option<TracedCall>,
}

/// The wrappers are their messages on the wire: `Message` delegated to the wrapped field.
macro_rules! message_as_field {
    ($wrapper:ty, $field:ident) => {
        impl Message for $wrapper {
            fn encode_raw(&self, buf: &mut impl BufMut) {
                self.$field.encode_raw(buf);
            }

            fn merge_field(
                &mut self,
                tag: u32,
                wire_type: WireType,
                buf: &mut impl Buf,
                ctx: DecodeContext,
            ) -> Result<(), DecodeError> {
                self.$field.merge_field(tag, wire_type, buf, ctx)
            }

            fn encoded_len(&self) -> usize {
                self.$field.encoded_len()
            }

            fn clear(&mut self) {
                self.$field.clear();
            }
        }
    };
}

message_as_field!(RunCall, request);
message_as_field!(RunAnswer, reply);

/// What the codec asks of a message beyond prost's: the `Run` wrappers take their decode's
/// clock readings and give up their traced call; the other messages keep the defaults.
pub(crate) trait Timed: Message + Default + Send + 'static {
    /// Whether a decode of this message is timed (when tracing is on).
    const TIMED: bool = false;

    /// The clock readings around this message's decode.
    fn decoded(&mut self, _readings: Decoded) {}

    /// The traced call whose span ends after this message's encode.
    fn take_call(&mut self) -> Option<TracedCall> {
        None
    }
}

impl Timed for RunCall {
    const TIMED: bool = true;

    fn decoded(&mut self, readings: Decoded) {
        self.decoded = Some(readings);
    }
}

impl Timed for RunAnswer {
    fn take_call(&mut self) -> Option<TracedCall> {
        self.call.take()
    }
}

impl Timed for DescribeRequest {}
impl Timed for DescribeReply {}
impl Timed for ResourcesRequest {}
impl Timed for ResourcesReply {}

/// The codec of every method of the generated server: encodes `E`, decodes `D`.
#[derive(Debug)]
pub(crate) struct TimingCodec<E, D>(PhantomData<(E, D)>);

impl<E, D> Default for TimingCodec<E, D> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<E: Timed, D: Timed> Codec for TimingCodec<E, D> {
    type Encode = E;
    type Decode = D;
    type Encoder = TimingEncoder<E>;
    type Decoder = TimingDecoder<D>;

    fn encoder(&mut self) -> Self::Encoder {
        TimingEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        TimingDecoder(PhantomData)
    }
}

#[derive(Debug)]
pub(crate) struct TimingEncoder<E>(PhantomData<E>);

impl<E: Timed> Encoder for TimingEncoder<E> {
    type Item = E;
    type Error = Status;

    fn encode(&mut self, mut item: E, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        let Some(call) = item.take_call() else {
            return encode(&item, buf);
        };
        let bytes = item.encoded_len();
        let start = Instant::now();
        let encoded = encode(&item, buf);
        call.encoded(start, Instant::now(), bytes);
        encoded
    }
}

/// prost's encode into tonic's buffer (which grows: it never runs out of room).
fn encode(item: &impl Message, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
    item.encode(buf)
        .map_err(|e| Status::internal(format!("encoding the reply: {e}")))
}

#[derive(Debug)]
pub(crate) struct TimingDecoder<D>(PhantomData<D>);

impl<D: Timed> Decoder for TimingDecoder<D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        if !(D::TIMED && observe::tracing_on()) {
            return decode(buf).map(Some);
        }
        let bytes = buf.remaining();
        let start = Instant::now();
        let mut item: D = decode(buf)?;
        let end = Instant::now();
        item.decoded(Decoded { start, end, bytes });
        Ok(Some(item))
    }
}

/// prost's decode; a malformed message is INTERNAL, as tonic-prost's codec has it.
fn decode<D: Message + Default>(buf: &mut DecodeBuf<'_>) -> Result<D, Status> {
    D::decode(buf).map_err(|e| Status::internal(e.to_string()))
}
