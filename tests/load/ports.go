package main

import (
	"net"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
)

// reserveAddr is a free loopback address no one else takes before the
// process it is meant for binds it (see addrtest.ReserveTCP), so runs and
// tests side by side never answer in each other's place.
func reserveAddr() (string, error) { return addrtest.Reserve() }

// dialable tells whether something accepts connections on addr.
func dialable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}
