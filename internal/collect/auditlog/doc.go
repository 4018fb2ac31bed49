// Package auditlog reads the kernel's seccomp audit records (type 1326,
// AUDIT_SECCOMP) from the audit netlink multicast group, the way journald does: no
// auditd, no audit rules, nothing on the host changed. Reading needs CAP_AUDIT_READ.
//
// It imports only x/sys and the syscall tables: no facts, no check.
package auditlog
