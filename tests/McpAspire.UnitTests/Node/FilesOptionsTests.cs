using System.ComponentModel.DataAnnotations;
using McpAspire.McpNode.Packs.Files;

namespace McpAspire.UnitTests.Node;

public sealed class FilesOptionsTests
{
    [Fact]
    public void Nested_roots_are_refused_so_a_read_write_root_cannot_reach_into_a_read_only_one()
    {
        var outer = Directory.CreateTempSubdirectory("mcpaspire-roots-");
        try
        {
            var inner = outer.CreateSubdirectory("ref");
            var options = new FilesOptions();
            options.Roots.Add(new FileRoot { Name = "work", Path = outer.FullName, Access = FileAccessMode.ReadWrite });
            options.Roots.Add(new FileRoot { Name = "ref", Path = inner.FullName, Access = FileAccessMode.ReadOnly });

            var errors = options.Validate(new ValidationContext(options)).Select(result => result.ErrorMessage).ToArray();

            Assert.Contains("Files:Roots 'ref' lies inside root 'work'; roots must not overlap.", errors);
        }
        finally
        {
            outer.Delete(recursive: true);
        }
    }
}
