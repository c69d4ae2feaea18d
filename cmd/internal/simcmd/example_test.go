package simcmd_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hitless-ike/hitless/cmd/internal/simcmd"
	"github.com/hitless-ike/hitless/props/effect"
)

// Two profiles, one tunnel rekeying every 5 s under 500 packets/s each
// way over a 20 ms path, with 4 ms to process a Quick Mode message.
func ExampleRun() {
	s := effect.Default()
	s.Tunnels, s.Duration, s.Profiles = 1, effect.Duration(31*time.Second), []string{"hitless", "install-at-qm3"}
	s.Soft, s.Hard, s.RekeyFuzz = effect.Duration(5*time.Second), effect.Duration(15*time.Second), 0
	s.AB.Rate, s.BA.Rate, s.Jitter = 500, 500, 0
	s.Delay, s.IKEProcessing = effect.Duration(20*time.Millisecond), effect.Duration(4*time.Millisecond)
	rep, err := simcmd.Run(context.Background(), simcmd.Options{Scenario: s})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Rows() {
		fmt.Printf("%s: sent %d, %d rekeys, %.1f lost per rekey\n", r.Profile, r.Sent, r.Rekeys, r.LossPerRekey)
	}
	// Output:
	// hitless: sent 31000, 6 rekeys, 0.0 lost per rekey
	// install-at-qm3: sent 31000, 6 rekeys, 2.0 lost per rekey
}

// The command as "hitless sim" runs it, here writing CSV.
func ExampleCommand() {
	code := simcmd.Command(context.Background(), os.Stdout, os.Stderr, []string{
		"--tunnels", "1", "--duration", "11s", "--soft", "5s", "--hard", "15s", "--rekey-fuzz", "0",
		"--rate", "100", "--jitter", "0", "--profiles", "hitless", "--csv",
	})
	fmt.Println("exit status", code)
}
