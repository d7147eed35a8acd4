package vault

import (
	"strings"
	"time"
)

// Regulation is the EU regulation a device is placed on the market under.
type Regulation string

const (
	MDR  Regulation = "MDR"  // Regulation (EU) 2017/745 on medical devices
	IVDR Regulation = "IVDR" // Regulation (EU) 2017/746 on in vitro diagnostic medical devices
)

// riskClasses lists the classes each regulation defines: MDR Annex VIII
// (with the Is, Im, Ir subclasses of class I) and IVDR Annex VIII.
var riskClasses = map[Regulation][]string{
	MDR:  {"I", "Is", "Im", "Ir", "IIa", "IIb", "III"},
	IVDR: {"A", "B", "C", "D"},
}

// Retention periods: MDR Article 10(8) asks for at least 10 years after the
// last device is placed on the market, 15 for implantables.
const (
	RetentionYears            = 10
	RetentionYearsImplantable = 15
)

// DossierInput is the body of POST /v1/dossiers: the identity of one device.
type DossierInput struct {
	Name         string     `json:"name" validate:"required,max=200,text"`
	BasicUDIDI   string     `json:"basicUdiDi" validate:"required,basic_udi_di"`
	Regulation   Regulation `json:"regulation" validate:"required,oneof=MDR IVDR"`
	RiskClass    string     `json:"riskClass" validate:"required"`
	Implantable  *bool      `json:"implantable" validate:"required"`
	HighRiskAI   *bool      `json:"highRiskAi" validate:"required"`
	NotifiedBody string     `json:"notifiedBody,omitempty" validate:"omitempty,notified_body"`
}

// Dossier is one device's technical documentation inside one tenant.
type Dossier struct {
	ID             string     `json:"id"`
	Tenant         string     `json:"tenant"`
	Name           string     `json:"name"`
	BasicUDIDI     string     `json:"basicUdiDi"`
	Regulation     Regulation `json:"regulation"`
	RiskClass      string     `json:"riskClass"`
	Implantable    bool       `json:"implantable"`
	HighRiskAI     bool       `json:"highRiskAi"`
	NotifiedBody   string     `json:"notifiedBody,omitempty"`
	RetentionYears int        `json:"retentionYears"`
	CreatedAt      time.Time  `json:"createdAt"`
	CreatedBy      string     `json:"createdBy"`
}

// Kind is what a piece of evidence is.
type Kind string

const (
	KindTechnicalDocumentation      Kind = "technical-documentation"
	KindClinicalEvidence            Kind = "clinical-evidence"
	KindTestReport                  Kind = "test-report"
	KindRiskManagement              Kind = "risk-management"
	KindPostMarketSurveillance      Kind = "post-market-surveillance"
	KindAIActTechnicalDocumentation Kind = "ai-act-technical-documentation"
	KindDeclarationOfConformity     Kind = "declaration-of-conformity"
	KindCertificate                 Kind = "certificate"
	KindOther                       Kind = "other"
)

// Document is the metadata of one evidence file: the body of
// POST /v1/dossiers/{dossier}/uploads and part of every receipt.
type Document struct {
	Path          string   `json:"path" validate:"required,doc_path"`
	Title         string   `json:"title" validate:"required,max=300,text"`
	Kind          Kind     `json:"kind" validate:"required,kind"`
	Section       string   `json:"section,omitempty" validate:"omitempty,section"`
	Revision      string   `json:"revision" validate:"required,max=32,text"`
	Language      string   `json:"language" validate:"required,iso639_1"`
	EffectiveDate string   `json:"effectiveDate" validate:"required,datetime=2006-01-02"`
	Standards     []string `json:"standards,omitempty" validate:"max=50,dive,standard"`
	Author        string   `json:"author" validate:"required,max=200,text"`
	File          File     `json:"file"`
}

// File describes the bytes: storage refuses any others.
type File struct {
	Name        string `json:"name" validate:"required,file_name"`
	Size        int64  `json:"size" validate:"min=1,max=5497558138880"`
	SHA256      string `json:"sha256" validate:"required,sha256_hex"`
	ContentType string `json:"contentType" validate:"required,content_type"`
}

// MaxSinglePutSize is S3's limit for one PUT (5 GiB); larger files need
// multipart uploads.
const MaxSinglePutSize = 5 << 30

// normalize fixes what has one obvious meaning, before validation: hex
// digests in upper case (PowerShell's Get-FileHash prints them so).
func (d *Document) normalize() {
	d.File.SHA256 = strings.ToLower(d.File.SHA256)
}

// contentTypes is the allow-list of media types, with the file extensions
// that go with each. A name with a listed extension must carry its type.
var contentTypes = map[string][]string{
	"application/pdf":    {".pdf"},
	"application/msword": {".doc"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
	"application/vnd.ms-excel": {".xls"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {".xlsx"},
	"application/vnd.ms-powerpoint":                                             {".ppt"},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
	"application/vnd.oasis.opendocument.text":                                   {".odt"},
	"application/vnd.oasis.opendocument.spreadsheet":                            {".ods"},
	"application/vnd.oasis.opendocument.presentation":                           {".odp"},
	"text/csv":          {".csv"},
	"application/json":  {".json"},
	"application/xml":   {".xml"},
	"text/xml":          {".xml"},
	"text/plain":        {".txt", ".md", ".log"},
	"application/zip":   {".zip"},
	"image/png":         {".png"},
	"image/jpeg":        {".jpg", ".jpeg"},
	"application/dicom": {".dcm", ".dicom"},
}

// Section is a part of the technical documentation a document belongs to:
// MDR or IVDR Annex II (technical documentation) and Annex III (post-market
// surveillance), or AI Act (Regulation (EU) 2024/1689) Annex IV.
type Section struct {
	ID    string
	Title string
	// Kinds lists the document kinds that may belong here.
	Kinds []Kind
}

// Regulation returns the regulation a section belongs to: MDR, IVDR or
// "AIA" for the AI Act.
func (s Section) Regulation() string {
	reg, _, _ := strings.Cut(s.ID, "-")
	return reg
}

var (
	tdOnly   = []Kind{KindTechnicalDocumentation, KindOther}
	tdTests  = []Kind{KindTechnicalDocumentation, KindTestReport, KindOther}
	tdRisk   = []Kind{KindTechnicalDocumentation, KindRiskManagement, KindOther}
	pms      = []Kind{KindPostMarketSurveillance, KindOther}
	clinical = []Kind{KindTechnicalDocumentation, KindClinicalEvidence, KindTestReport, KindOther}
)

// Sections lists every section a document may name, in annex order.
var Sections = []Section{
	{"MDR-II-1", "Device description and specification, including variants and accessories", tdOnly},
	{"MDR-II-1.1", "Device description and specification", tdOnly},
	{"MDR-II-1.2", "Reference to previous and similar generations of the device", tdOnly},
	{"MDR-II-2", "Information to be supplied by the manufacturer", tdOnly},
	{"MDR-II-3", "Design and manufacturing information", tdOnly},
	{"MDR-II-4", "General safety and performance requirements", tdOnly},
	{"MDR-II-5", "Benefit-risk analysis and risk management", tdRisk},
	{"MDR-II-6", "Product verification and validation", tdTests},
	{"MDR-II-6.1", "Pre-clinical and clinical data", clinical},
	{"MDR-II-6.2", "Additional information required in specific cases", tdTests},
	{"MDR-III-1.1", "Post-market surveillance plan", pms},
	{"MDR-III-1.2", "PSUR and post-market surveillance report", pms},

	{"IVDR-II-1", "Device description and specification, including variants and accessories", tdOnly},
	{"IVDR-II-1.1", "Device description and specification", tdOnly},
	{"IVDR-II-1.2", "Reference to previous and similar generations of the device", tdOnly},
	{"IVDR-II-2", "Information to be supplied by the manufacturer", tdOnly},
	{"IVDR-II-3", "Design and manufacturing information", tdOnly},
	{"IVDR-II-4", "General safety and performance requirements", tdOnly},
	{"IVDR-II-5", "Benefit-risk analysis and risk management", tdRisk},
	{"IVDR-II-6", "Product verification and validation", tdTests},
	{"IVDR-II-6.1", "Information on analytical performance of the device", tdTests},
	{"IVDR-II-6.2", "Information on clinical performance and clinical evidence; performance evaluation report", clinical},
	{"IVDR-II-6.3", "Stability (excluding sample stability)", tdTests},
	{"IVDR-II-6.4", "Software verification and validation", tdTests},
	{"IVDR-II-6.5", "Information required in specific cases", tdTests},
	{"IVDR-III-1.1", "Post-market surveillance plan", pms},
	{"IVDR-III-1.2", "PSUR and post-market surveillance report", pms},

	{"AIA-IV-1", "General description of the AI system", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-2", "Detailed description of the elements of the AI system and of its development process", aiKinds(KindTechnicalDocumentation, KindTestReport)},
	{"AIA-IV-3", "Monitoring, functioning and control of the AI system", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-4", "Appropriateness of the performance metrics", aiKinds(KindTechnicalDocumentation, KindTestReport)},
	{"AIA-IV-5", "Risk management system (Article 9)", aiKinds(KindRiskManagement)},
	{"AIA-IV-6", "Relevant changes made through the lifecycle", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-7", "Harmonised standards and other specifications applied", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-8", "Copy of the EU declaration of conformity (Article 47)", aiKinds(KindDeclarationOfConformity)},
	{"AIA-IV-9", "Post-market monitoring system and plan (Article 72)", aiKinds(KindPostMarketSurveillance)},
}

func aiKinds(k ...Kind) []Kind {
	return append([]Kind{KindAIActTechnicalDocumentation, KindOther}, k...)
}

// kindsNeedingSection must name the section they belong to; the others
// (declarations, certificates, other) may.
var kindsNeedingSection = map[Kind]bool{
	KindTechnicalDocumentation:      true,
	KindClinicalEvidence:            true,
	KindTestReport:                  true,
	KindRiskManagement:              true,
	KindPostMarketSurveillance:      true,
	KindAIActTechnicalDocumentation: true,
}

var allKinds = map[Kind]bool{
	KindTechnicalDocumentation: true, KindClinicalEvidence: true, KindTestReport: true,
	KindRiskManagement: true, KindPostMarketSurveillance: true, KindAIActTechnicalDocumentation: true,
	KindDeclarationOfConformity: true, KindCertificate: true, KindOther: true,
}

func section(id string) (Section, bool) {
	for _, s := range Sections {
		if s.ID == id {
			return s, true
		}
	}
	return Section{}, false
}
