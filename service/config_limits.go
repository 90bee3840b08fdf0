package service

import "github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"

// loadRateLimits reads the default request budgets of /api/v1, which
// `apps set-limits` overrides per application. Requests per second, and how
// many may come at once.
func loadRateLimits(p *parser) application.RateLimits {
	rate := func(name string, def int) int { return p.integer(name, def, 1, application.MaxRatePerSecond) }
	burst := func(name string, def int) int { return p.integer(name, def, 1, application.MaxBurst) }
	return application.RateLimits{
		App:  application.Rate{PerSecond: rate("CUSTOM_GPT_APP_RATE", 20), Burst: burst("CUSTOM_GPT_APP_BURST", 40)},
		User: application.Rate{PerSecond: rate("CUSTOM_GPT_USER_RATE", 5), Burst: burst("CUSTOM_GPT_USER_BURST", 10)},
	}
}
