package config

import (
	"reflect"

	"github.com/redis/go-redis/v9"
)

// copyFields copies every exported field of src (a *redis.Options, *redis.ClusterOptions or
// *redis.FailoverOptions) into the field of dst with the same name and type. go-redis has
// no conversion from these to UniversalOptions, and copying by name keeps every setting its
// URL parsers know (timeouts, pool sizes, TLS, credentials) without a list to keep in step
// with new releases. Fields whose names differ (Addr, SentinelAddrs) are set by the caller.
func copyFields(dst *redis.UniversalOptions, src any) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		f := s.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		to := d.FieldByName(f.Name)
		if to.IsValid() && to.CanSet() && f.Type.AssignableTo(to.Type()) {
			to.Set(s.Field(i))
		}
	}
}
