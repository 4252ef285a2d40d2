// include/linux/fs.h (Linux 6.1): umount2() flags, ABI though not in a uapi header. Checked
// against the header by test/unit/lib/constants.test.ts.

export const MNT_FORCE = 0x1;
/** Detach the mount now, clean up when it is no longer busy. */
export const MNT_DETACH = 0x2;
export const MNT_EXPIRE = 0x4;
export const UMOUNT_NOFOLLOW = 0x8;
