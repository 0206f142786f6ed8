package fakewaldur

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokens of the users Demo creates.
const (
	DemoStaffToken  = "demo-staff-token"  // staff: sees every customer
	DemoOwnerToken  = "demo-owner-token"  // holds roles in a subset of customers
	DemoNobodyToken = "demo-nobody-token" // holds no role: 200 []
	DemoLegacyToken = "demo-legacy-token" // older Waldur: 403 for non-staff
)

// Units of the size quotas, which Waldur counts in MiB.
const (
	gib = 1024
	tib = 1024 * gib
	pib = 1024 * tib
)

// maxExactInt keeps every integer exactly representable as a float64, so that a
// client decoding JSON numbers as doubles still reads the demo's values exactly.
const maxExactInt = 1 << 53

// Demo builds about n synthetic but real-looking organisations, deterministic for a
// given seed, plus the users behind the Demo*Token constants.
//
// The data exercises what a client of the real endpoint meets: most customers have
// zero usage (long runs of ties), small quantised usages repeat (ties among non-zero
// values), a few storage sums exceed 2^31 MiB (but stay within 2^53), estimated_price
// is a float with two decimals and null for about 15% of customers, and names carry
// non-ASCII letters, '&' and apostrophes.
func Demo(n int, seed int64) *Dataset {
	n = max(n, 0)
	rng := rand.New(rand.NewPCG(uint64(seed), 0xdead_beef_0bad_cafe))
	heavy := pickSet(rng, n, max(1, n/150)) // the few with petabytes of storage

	d := &Dataset{Customers: make([]Customer, 0, n)}
	names := make(map[string]bool, n)
	for i := range n {
		kind := pickOrgKind(rng)
		name, stem := uniqueName(rng, kind, names)
		d.Customers = append(d.Customers, Customer{
			ID:           i + 1,
			Name:         name,
			Abbreviation: abbreviate(rng, kind, stem),
			Quotas:       demoQuotas(rng, kind, heavy[i]),
		})
	}

	owned := make(map[int]bool)
	for i := range pickSet(rng, n, min(n, max(20, n/20))) {
		owned[i+1] = true
	}
	d.Users = map[string]User{
		DemoStaffToken:  {Staff: true},
		DemoOwnerToken:  {Customers: owned},
		DemoNobodyToken: {Customers: map[int]bool{}},
		DemoLegacyToken: {Forbidden: true},
	}
	return d
}

// pickSet returns k distinct indices in [0, n).
func pickSet(rng *rand.Rand, n, k int) map[int]bool {
	set := make(map[int]bool, k)
	for _, i := range rng.Perm(n)[:min(k, n)] {
		set[i] = true
	}
	return set
}

type orgKind int

const (
	kindUniversity orgKind = iota
	kindInstitute
	kindGroup
	kindCompany
	kindPublic
)

func pickOrgKind(rng *rand.Rand) orgKind {
	switch p := rng.IntN(100); {
	case p < 22:
		return kindUniversity
	case p < 40:
		return kindInstitute
	case p < 62:
		return kindGroup
	case p < 90:
		return kindCompany
	default:
		return kindPublic
	}
}

// Word lists for names; read-only.
var (
	cities = []string{
		"Tartu", "Tallinn", "Narva", "Pärnu", "Helsinki", "Espoo", "Turku", "Oulu",
		"Tampere", "Jyväskylä", "Uppsala", "Lund", "Göteborg", "Stockholm", "Umeå",
		"Linköping", "Oslo", "Bergen", "Trondheim", "Tromsø", "Aarhus", "Copenhagen",
		"Aalborg", "Odense", "Riga", "Jelgava", "Vilnius", "Kaunas", "Gdańsk", "Kraków",
		"Warsaw", "Poznań", "Wrocław", "Prague", "Brno", "Vienna", "Graz", "Innsbruck",
		"Munich", "Heidelberg", "Freiburg", "Leipzig", "Dresden", "Hamburg", "Bremen",
		"Delft", "Leiden", "Utrecht", "Eindhoven", "Groningen", "Ghent", "Leuven",
		"Liège", "Lyon", "Grenoble", "Toulouse", "Bordeaux", "Porto", "Coimbra",
		"Lisbon", "Braga", "Salamanca", "Valencia", "Bologna", "Padua", "Pisa", "Turin",
		"Trieste", "Ljubljana", "Zagreb", "Edinburgh", "Glasgow", "Dundee", "Cork",
		"Galway", "Reykjavík", "Basel", "Zürich", "Lausanne", "Geneva", "Bern",
	}
	nations = []string{
		"Estonian", "Finnish", "Swedish", "Norwegian", "Danish", "Latvian",
		"Lithuanian", "Polish", "Czech", "Austrian", "Dutch", "Belgian", "Irish",
		"Icelandic", "Slovenian", "Portuguese",
	}
	fields = []string{
		"Bioinformatics", "Climate Research", "Computational Linguistics",
		"Materials Science", "Particle Physics", "Genomics", "Marine Biology",
		"Neuroscience", "Quantum Computing", "Digital Humanities", "Cybersecurity",
		"Astrophysics", "Epidemiology", "Machine Learning", "Robotics", "Energy Systems",
		"Geoinformatics", "Structural Biology", "Plant Sciences", "Chemical Engineering",
		"Applied Mathematics", "Economics", "Health Informatics", "Space Technology",
		"Ocean Engineering", "Forest Ecology", "Semiconductor Physics", "Hydrology",
		"Computational Chemistry", "Public Health",
	}
	surnames = []string{
		"Kask", "Tamm", "Saar", "Mägi", "Ilves", "Lepik", "Virtanen", "Korhonen",
		"Nieminen", "Aalto", "Lindqvist", "Andersson", "Berg", "Hansen", "Jensen",
		"Nielsen", "Kowalski", "Nowak", "Novák", "Schneider", "Fischer", "Weber",
		"Becker", "Müller", "de Vries", "Janssen", "Dubois", "Moreau", "Rossi",
		"Ferrari", "Silva", "Santos", "García", "O'Connor", "Murphy", "Campbell",
		"Horváth", "Bauer", "Kalniņš", "Petrauskas", "Struve", "Lindholm",
	}
	brandHeads = []string{
		"Nordic", "Baltic", "Blue", "Green", "North", "Polar", "Aurora", "Amber",
		"Granite", "Silver", "Boreal", "Cobalt", "Helix", "Vector", "Quantum", "Cloud",
		"Pixel", "Lumen", "Vertex", "Fjord", "Tundra", "Nimbus", "Cirrus", "Orbit",
		"Kernel", "Lattice", "Apex", "Birch", "Harbour", "Lynx",
	}
	brandTails = []string{
		"Analytics", "Systems", "Labs", "Cloud", "Dynamics", "Software", "Robotics",
		"Bio", "Networks", "Compute", "Solutions", "Data", "Logic", "Works", "Digital",
		"Genomics", "Energy", "Mobility", "Security", "Health", "Vision", "Materials",
	}
	legalForms = []string{
		"OÜ", "AS", "Oy", "AB", "ApS", "GmbH", "B.V.", "Ltd", "S.A.", "s.r.o.",
		"sp. z o.o.", "S.r.l.", "SIA", "UAB", "AG",
	}
	codenames = []string{
		"Vega", "Altair", "Orion", "Lyra", "Cassiopeia", "Draco", "Polaris", "Sirius",
		"Andromeda", "Pegasus", "Perseus", "Rigel", "Deneb", "Antares", "Hydra",
	}
)

func pick(rng *rand.Rand, list []string) string { return list[rng.IntN(len(list))] }

// orgName makes one candidate name for an organisation of the given kind, and the
// part of it an abbreviation is made from (a company's name without its legal form).
func orgName(rng *rand.Rand, kind orgKind) (name, stem string) {
	var candidates []string
	city, field, surname := pick(rng, cities), pick(rng, fields), pick(rng, surnames)
	switch kind {
	case kindUniversity:
		candidates = []string{
			"University of " + city,
			city + " University",
			city + " University of Technology",
			city + " University of Applied Sciences",
			"Technical University of " + city,
			city + " School of Economics",
			city + " Academy of Arts",
			"Medical University of " + city,
		}
	case kindInstitute:
		candidates = []string{
			surname + " Institute for " + field,
			city + " Institute of " + field,
			"Institute of " + field + ", " + city,
			city + " Centre for " + field,
			pick(rng, nations) + " Institute of " + field,
		}
	case kindGroup:
		candidates = []string{
			field + " Group, University of " + city,
			surname + " Lab",
			surname + " Lab for " + field,
			field + " Research Group (" + city + ")",
			city + " " + field + " Consortium",
			"Project " + pick(rng, codenames) + " – " + field,
			pick(rng, codenames) + " " + field + " Collaboration",
		}
	case kindCompany:
		head, tail := pick(rng, brandHeads), pick(rng, brandTails)
		partner := pick(rng, surnames)
		for partner == surname {
			partner = pick(rng, surnames)
		}
		stem = pick(rng, []string{
			head + strings.ToLower(tail),
			head + " " + tail,
			surname + " & " + partner,
			city + " " + tail,
		})
		return stem + " " + pick(rng, legalForms), stem
	default:
		nation := pick(rng, nations)
		candidates = []string{
			city + " University Hospital",
			"City of " + city,
			nation + " Research Council",
			nation + " Meteorological Institute",
			nation + " Environment Agency",
			nation + " Centre for Research Data",
			city + " Public Library",
		}
	}
	name = pick(rng, candidates)
	return name, name
}

// uniqueName draws names until one is new; if the word lists run dry (very large
// n), it numbers the name, the way real registries disambiguate.
func uniqueName(rng *rand.Rand, kind orgKind, seen map[string]bool) (name, stem string) {
	for range 8 {
		if name, stem = orgName(rng, kind); !seen[name] {
			seen[name] = true
			return name, stem
		}
	}
	for i := 2; ; i++ {
		if numbered := fmt.Sprintf("%s (%d)", name, i); !seen[numbered] {
			seen[numbered] = true
			return numbered, stem
		}
	}
}

// abbreviate derives customer_abbreviation (at most 12 characters, about 15% empty):
// initials for most organisations, the first word for some companies and for
// one-word names.
func abbreviate(rng *rand.Rand, kind orgKind, stem string) string {
	if rng.IntN(100) < 15 {
		return ""
	}
	words := strings.FieldsFunc(stem, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	var abbr string
	if len(words) == 1 || kind == kindCompany && rng.IntN(2) == 0 {
		abbr = strings.ToUpper(words[0])
	} else {
		var b strings.Builder
		for _, w := range words {
			r, _ := utf8.DecodeRuneInString(w)
			if unicode.IsUpper(r) {
				b.WriteRune(r)
			}
		}
		abbr = b.String()
	}
	if utf8.RuneCountInString(abbr) > 12 {
		abbr = string([]rune(abbr)[:12])
	}
	return abbr
}

// orgScale is how much infrastructure a kind of organisation typically runs.
var orgScale = [...]float64{
	kindUniversity: 4, kindInstitute: 2, kindGroup: 0.6, kindCompany: 1, kindPublic: 1.5,
}

// VM shapes: cores, and MiB of RAM per core.
var (
	coreChoices   = []int64{1, 2, 2, 4, 4, 4, 8, 8, 16, 32}
	ramPerCore    = []int64{2 * gib, 4 * gib, 4 * gib, 8 * gib}
	rootDiskSizes = []int64{10 * gib, 20 * gib, 20 * gib, 40 * gib, 80 * gib}
	flatPrices    = []float64{49, 99, 99, 149, 249, 499}
)

// demoQuotas draws a customer's usage. About 30% are dormant (all zero); the rest run
// some OpenStack VMs and, less often, VPC instances, in quantised shapes so that
// equal non-zero sums are common. Heavy customers also hold petabytes of storage.
func demoQuotas(rng *rand.Rand, kind orgKind, heavy bool) map[string]Value {
	if !heavy && rng.IntN(100) < 30 {
		price := Float(0)
		if rng.IntN(100) < 40 {
			price = Null()
		}
		if rng.IntN(2) == 0 {
			// Half the dormant customers have no quota rows at all: they read as 0.
			return map[string]Value{"estimated_price": price}
		}
		q := map[string]Value{"estimated_price": price}
		for _, name := range []string{"nc_resource_count", "os_cpu_count", "os_ram_size", "os_storage_size",
			"vpc_cpu_count", "vpc_floating_ip_count", "vpc_instance_count", "vpc_ram_size", "vpc_storage_size"} {
			q[name] = Int(0)
		}
		return q
	}

	// Lognormal size: most customers are small, a few are large.
	scale := orgScale[kind] * math.Exp(rng.NormFloat64()*1.2)
	var osCPU, osRAM, osStorage, vpcCPU, vpcRAM, vpcStorage, vpcVMs, fips int64
	osVMs := int64(0)
	if heavy || rng.IntN(100) < 80 {
		osVMs = min(1+int64(scale*2*rng.Float64()), 200)
	}
	for range osVMs {
		cores := coreChoices[rng.IntN(len(coreChoices))]
		osCPU += cores
		osRAM += cores * ramPerCore[rng.IntN(len(ramPerCore))]
		osStorage += rootDiskSizes[rng.IntN(len(rootDiskSizes))]
		if rng.IntN(3) == 0 { // an attached volume, in whole 50 GiB steps
			osStorage += int64(1+rng.IntN(int(1+scale*4))) * 50 * gib
		}
	}
	if heavy {
		// Research storage: 2..40 PiB, so the MiB sum is beyond 2^31.
		osStorage += int64(2+rng.IntN(38))*pib + rng.Int64N(pib)
	}
	if rng.IntN(100) < 35 {
		vpcVMs = min(1+int64(scale*rng.Float64()), 100)
		for range vpcVMs {
			cores := coreChoices[rng.IntN(len(coreChoices)-2)] // smaller shapes
			vpcCPU += cores
			vpcRAM += cores * 4 * gib
			vpcStorage += rootDiskSizes[rng.IntN(len(rootDiskSizes))]
		}
		fips = min(vpcVMs, int64(rng.IntN(4)))
	}
	resources := osVMs + vpcVMs + int64(rng.IntN(4))

	var price Value
	switch p := rng.IntN(100); {
	case p < 5:
		price = Null()
	case p < 15:
		price = Float(flatPrices[rng.IntN(len(flatPrices))]) // a package: equal prices
	default:
		monthly := float64(osCPU)*9.5 + float64(osRAM)/gib*2.25 + float64(osStorage)/tib*18 +
			float64(vpcCPU)*11 + float64(vpcRAM)/gib*2.5 + float64(vpcStorage)/tib*20 + float64(fips)*3
		price = Float(math.Round(monthly*100) / 100)
	}

	clamp := func(v int64) Value { return Int(min(v, maxExactInt)) }
	return map[string]Value{
		"estimated_price":       price,
		"nc_resource_count":     clamp(resources),
		"os_cpu_count":          clamp(osCPU),
		"os_ram_size":           clamp(osRAM),
		"os_storage_size":       clamp(osStorage),
		"vpc_cpu_count":         clamp(vpcCPU),
		"vpc_floating_ip_count": clamp(fips),
		"vpc_instance_count":    clamp(vpcVMs),
		"vpc_ram_size":          clamp(vpcRAM),
		"vpc_storage_size":      clamp(vpcStorage),
	}
}
