package vault

import (
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/evidencevault/vault/internal/regulation"
)

// Document is the metadata of one evidence file: the body of
// POST /v1/dossiers/{dossier}/uploads and part of every receipt.
type Document struct {
	Path          string          `json:"path" validate:"required,doc_path"`
	Title         string          `json:"title" validate:"required,max=300,text"`
	Kind          regulation.Kind `json:"kind" validate:"required,kind"`
	Section       string          `json:"section,omitempty" validate:"omitempty,section"`
	Revision      string          `json:"revision" validate:"required,max=32,text"`
	Language      string          `json:"language" validate:"required,iso639_1"`
	EffectiveDate string          `json:"effectiveDate" validate:"required,calendar_date"`
	Standards     []string        `json:"standards,omitempty" validate:"max=50,dive,standard"`
	Author        string          `json:"author" validate:"required,max=200,text"`
	File          File            `json:"file"`
}

// File describes the bytes: storage refuses any others.
type File struct {
	Name        string `json:"name" validate:"required,file_name"`
	Size        int64  `json:"size" validate:"required,min=1,max=5497558138880"`
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

func extensionKnown(ext string) bool {
	for _, exts := range contentTypes {
		if slices.Contains(exts, ext) {
			return true
		}
	}
	return false
}

// ContentTypeFor returns the accepted media type for a file name's
// extension, or "" if the extension is not one the vault knows. (.xml has
// two; application/xml is given.)
func ContentTypeFor(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ext == "" {
		return ""
	}
	for _, ct := range slices.Sorted(maps.Keys(contentTypes)) {
		if slices.Contains(contentTypes[ct], ext) {
			return ct
		}
	}
	return ""
}
