//! The pgwire listener and the `bytedata` command. Not written yet; see the server issue.
