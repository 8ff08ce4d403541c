import { DataConnectionError } from './data-channel.js';
import { TransferError } from './data-transfer.js';
import { FsError } from './fs.js';
import { FtpReplyError, replies, type FtpReply } from './replies.js';

/** The reply for a VirtualFs failure. */
export function fsErrorReply(err: FsError): FtpReply {
  switch (err.code) {
    case 'not-found':
      return replies.fileUnavailable('No such file or directory.');
    case 'not-dir':
      return replies.fileUnavailable('Not a directory.');
    case 'is-dir':
      return replies.fileUnavailable('Is a directory.');
    case 'exists':
      return replies.fileUnavailable('File exists.');
    case 'not-empty':
      return replies.fileUnavailable('Directory not empty.');
    case 'denied':
      return replies.permissionDenied();
    case 'no-space':
      return replies.insufficientStorage();
    case 'invalid-path':
      return replies.nameNotAllowed('File name not allowed.');
    case 'unsupported':
      return replies.notImplemented('Not supported by this filesystem.');
    case 'io':
      return replies.localError();
  }
}

/** The reply for a transfer that failed (426, 451, 552, 425, or the storage's own). @see RFC 959 §4.2 */
export function transferFailureReply(err: unknown): FtpReply {
  if (err instanceof TransferError) {
    switch (err.reason) {
      case 'aborted':
        return replies.transferAborted('Transfer aborted.');
      case 'stalled':
        return replies.transferAborted('Transfer stalled: data connection closed.');
      case 'connection-lost':
        return replies.transferAborted();
      case 'too-large':
        return replies.storageExceeded('Upload size limit exceeded.');
      case 'storage': {
        const cause = err.cause;
        return cause instanceof FsError ? fsErrorReply(cause) : replies.localError();
      }
    }
  }
  if (err instanceof DataConnectionError) return replies.cannotOpenData();
  if (err instanceof FsError) return fsErrorReply(err);
  if (err instanceof FtpReplyError) return err.reply;
  return replies.localError();
}
