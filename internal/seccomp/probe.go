package seccomp

import (
	"encoding/binary"
	"fmt"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// ProbeELF is a tiny static x86_64 Linux program that makes one syscall (number nr,
// all arguments zero) and exits through exitCall ("exit_group" or "exit") with 0 when
// the call succeeded and its errno when it failed: under a profile that refuses nr
// with EPERM it exits 1. It makes no other syscall, so it runs under any profile that
// allows execve and exitCall; dockaudit seccomp record uses it to show a syscall
// outside the recorded set is refused.
func ProbeELF(syscall, exitCall string) ([]byte, error) {
	nr, ok := arch.X86_64.SyscallNames[syscall]
	if !ok {
		return nil, fmt.Errorf("%q is not an x86_64 syscall", syscall)
	}
	exitNr, ok := arch.X86_64.SyscallNames[exitCall]
	if !ok || (exitCall != "exit" && exitCall != "exit_group") {
		return nil, fmt.Errorf("%q is not exit or exit_group", exitCall)
	}
	const base = 0x400000
	code := []byte{0xb8} // mov eax, nr
	code = binary.LittleEndian.AppendUint32(code, uint32(nr))
	code = append(code,
		0x31, 0xff, // xor edi, edi
		0x31, 0xf6, // xor esi, esi
		0x31, 0xd2, // xor edx, edx
		0x45, 0x31, 0xd2, // xor r10d, r10d
		0x45, 0x31, 0xc0, // xor r8d, r8d
		0x45, 0x31, 0xc9, // xor r9d, r9d
		0x0f, 0x05, // syscall
		0x85, 0xc0, // test eax, eax
		0x79, 0x06, // jns ok
		0xf7, 0xd8, // neg eax
		0x89, 0xc7, // mov edi, eax
		0xeb, 0x02, // jmp out
		0x31, 0xff, // ok: xor edi, edi
		0xb8, // out: mov eax, exitNr
	)
	code = binary.LittleEndian.AppendUint32(code, uint32(exitNr))
	code = append(code, 0x0f, 0x05, // syscall
		0xf4) // hlt: never reached (a privileged instruction, so a crash if it is)
	const ehsize, phsize = 64, 56
	size := uint64(ehsize + phsize + len(code))
	le := binary.LittleEndian
	b := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = le.AppendUint16(b, 2)    // ET_EXEC
	b = le.AppendUint16(b, 0x3e) // EM_X86_64
	b = le.AppendUint32(b, 1)
	b = le.AppendUint64(b, base+ehsize+phsize) // entry
	b = le.AppendUint64(b, ehsize)             // program headers
	b = le.AppendUint64(b, 0)                  // no section headers
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, ehsize)
	b = le.AppendUint16(b, phsize)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 1) // PT_LOAD
	b = le.AppendUint32(b, 5) // R+X
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, base)
	b = le.AppendUint64(b, base)
	b = le.AppendUint64(b, size)
	b = le.AppendUint64(b, size)
	b = le.AppendUint64(b, 0x1000)
	return append(b, code...), nil
}
