// Command launch is the entrypoint of every image of ours (docker/service.Dockerfile): it
// replaces itself with the service the image was built for, named by $SERVICE (the build
// argument), passing its arguments on. The images have no shell to do this.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	name := os.Getenv("SERVICE")
	path, err := exec.LookPath(name)
	if name == "" || err != nil {
		fmt.Fprintf(os.Stderr, "launch: SERVICE=%q: not a program on PATH\n", name)
		os.Exit(127)
	}
	err = syscall.Exec(path, append([]string{name}, os.Args[1:]...), os.Environ())
	fmt.Fprintln(os.Stderr, "launch:", err)
	os.Exit(126)
}
