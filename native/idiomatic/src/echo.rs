//! `echo`: the response body is the request body, byte for byte.

use crate::{check_payload_size, Result};

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    check_payload_size("echo", input.len())?;
    Ok(input.to_vec())
}

#[cfg(test)]
mod tests {
    #[test]
    fn returns_its_input() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(super::run(&data).unwrap(), data);
        assert_eq!(super::run(b"").unwrap(), b"");
    }
}
